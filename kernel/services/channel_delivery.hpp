#pragma once

// Delivering queued channel messages (docs/plugin-authoring.md, "Channels"), on the
// kernel's job workers — beside webhook delivery, and like it a service: each outcome
// is a change to the message, recorded through the one door as
// channel_message.sent | failed | retry_scheduled by the system actor
// "channel-delivery".
//
//   POST …/messages ──▶ message queued + job kernel:channels.send ──(job worker)──▶
//   the channel plugin's send ──▶ sent (external id, delivery status) | retried | failed
//
// A retryable answer (the plugin says UNAVAILABLE) is retried with the queue's back-off
// up to jobs.max_attempts; anything else, or the last attempt, fails the message. A
// message settled already (a repeated run of the job) is left alone.

#include <functional>
#include <optional>
#include <string>

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// A channel's answer to one send.
struct ChannelSendResult {
  enum class Kind { sent, retry, failed };
  Kind kind = Kind::failed;
  Json outcome = Json::object();  // sent: {"external_id", "delivery_status"}
  std::string error;              // retry, failed: why
};

// Calls the send of the channel `plugin_id` offers with `request` ({"message_id",
// "channel_account", "to", "content"}), as `ctx`; nothing when no loaded plugin
// offers that channel. The plugin host provides it.
using ChannelSender =
    std::function<std::optional<ChannelSendResult>(const std::string& plugin_id, const CallContext& ctx, const Json& request)>;

// The job kernel:channels.send (channel_send_job_name).
events::JobDefinition channel_delivery_job(ServiceDependencies deps, ChannelSender send, int max_attempts,
                                           const Clock& clock);

}  // namespace nucleo::services
