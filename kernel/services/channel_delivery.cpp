#include "kernel/services/channel_delivery.hpp"

#include "kernel/services/channel_account_service.hpp"

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
                 {"secrets", out->account.secrets}}},
               {"to", out->message["to"]},
               {"content", out->message["content"]}};
  auto result = send(out->account.plugin_id, as_plugin, request);
  if (!result) result = ChannelSendResult{ChannelSendResult::Kind::failed, Json::object(),
                                          "plugin " + out->account.plugin_id + " offers no channel on this node"};
  if (result->kind == ChannelSendResult::Kind::sent) {
    messages.settle_message(system, id, "sent", result->outcome, attempt);
    return "";
  }
  if (result->kind == ChannelSendResult::Kind::retry && attempt < max_attempts) {
    messages.settle_message(system, id, "queued", {{"error", result->error}}, attempt);
    return result->error;  // the queue retries with back-off
  }
  messages.settle_message(system, id, "failed", {{"error", result->error}}, attempt);
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
