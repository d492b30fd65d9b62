#include "kernel/services/channel_delivery.hpp"

#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/conversation_service.hpp"

namespace nucleo::services {
namespace {

CallContext delivery_context(const std::string& tenant_id, const std::string& message_id, const Clock& clock) {
  CallContext ctx;
  ctx.tenant_id = tenant_id;
  ctx.actor = {"system", "channel-delivery", ""};
  ctx.request_id = message_id;
  ctx.clock = &clock;
  return ctx;
}

std::string deliver(ServiceDependencies deps, const ChannelSender& send, int max_attempts, const Clock& clock,
                    const Json& job) {
  std::string tenant = job.at("tenant_id").get<std::string>();
  std::string id = job.at("payload").at("message_id").get<std::string>();
  int attempt = job.value("attempt", 1);
  ChannelAccountService messages(deps);
  CallContext system = delivery_context(tenant, id, clock);
  auto out = messages.outbound(tenant, id);
  if (!out || out->message["status"] != "queued") return "";

  // The plugin sends as itself, for the account the message goes out from.
  CallContext as_plugin = system;
  as_plugin.actor = {"plugin", out->account.plugin_id, out->account.id};
  Json request{{"message_id", id},
               {"channel_account",
                {{"id", out->account.id},
                 {"external_id", out->account.external_id},
                 {"config", out->account.config},
                 {"secrets", out->account.secrets},
                 {"problem", out->account.problem}}},
               {"to", out->message["to"]},
               {"content", out->message["content"]}};
  auto result = send(out->account.plugin_id, as_plugin, request);
  if (!result) result = ChannelSendResult{ChannelSendResult::Kind::failed, Json::object(),
                                          "plugin " + out->account.plugin_id + " offers no channel on this node"};
  // A message sent to a contact (ConversationService::send) is an interaction too: its
  // delivery status and the channel's id follow the message.
  const Json& content = out->message["content"];
  std::string interaction_id = content.is_object() ? content.value("interaction_id", "") : "";
  auto settle = [&](const std::string& status, const Json& outcome) {
    messages.settle_message(system, id, status, outcome, attempt);
    if (!interaction_id.empty() && status != "queued")
      ConversationService(deps).settle_outbound(system, interaction_id, status, outcome);
  };
  if (result->kind == ChannelSendResult::Kind::sent) {
    settle("sent", result->outcome);
    return "";
  }
  if (result->kind == ChannelSendResult::Kind::retry && attempt < max_attempts) {
    settle("queued", {{"error", result->error}});
    return result->error;  // the queue retries with back-off
  }
  settle("failed", {{"error", result->error}});
  return "";
}

}  // namespace

events::JobDefinition channel_delivery_job(ServiceDependencies deps, ChannelSender send, int max_attempts,
                                           const Clock& clock) {
  return {channel_send_job_name, std::nullopt, events::JobScope::tenant,
          [deps, send = std::move(send), max_attempts, &clock](const Json& job) {
            return deliver(deps, send, max_attempts, clock, job);
          }};
}

}  // namespace nucleo::services
