#pragma once

// Outbound webhooks (docs/architecture.md §8): a tenant's subscriptions of domain events to a URL.
//
// Management (admin only, audited as webhook.*): create — the signing secret
// `whsec_<base64>` is in that answer only —, list, read, update (url, events,
// description, status active|disabled), delete, rotate the secret, and the delivery log.
// The URL must be http(s) and, when an outbound guard is given, reach a public address
// (or one the deployment allow-lists): checked at creation and again on every send.
//
// Delivery (webhook_delivery.hpp) signs per Standard Webhooks.

#include <optional>
#include <string>
#include <vector>

#include "kernel/events/outbound_http.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Counts changes to any tenant's webhooks made through this process, so the fan-out's
// cache of each tenant's active webhooks (webhook_delivery.cpp) is dropped at once.
std::uint64_t webhooks_generation();

class WebhookService {
 public:
  explicit WebhookService(ServiceDependencies deps, const events::OutboundHttp* outbound = nullptr)
      : deps_(deps), outbound_(outbound) {}

  // body: {"url", "events": [patterns], "description"?}. Returns the webhook and "secret".
  Json create(const CallContext& ctx, const Json& body);
  std::vector<Json> list(const CallContext& ctx);
  Json get(const CallContext& ctx, const std::string& id);
  // patch: any of url, events, description, status. `expected_version` from If-Match.
  Json update(const CallContext& ctx, const std::string& id, const Json& patch,
              std::optional<std::int64_t> expected_version);
  void remove(const CallContext& ctx, const std::string& id);
  // A new secret (the old one stops signing at once). Returns the webhook and "secret".
  Json rotate_secret(const CallContext& ctx, const std::string& id);
  // Attempts, newest first: {event_id, event_name, attempt, status_code, error, duration_ms, attempted_at}.
  std::vector<Json> deliveries(const CallContext& ctx, const std::string& id, std::size_t limit);

 private:
  Json checked(const Json& body, bool creating) const;
  ServiceDependencies deps_;
  const events::OutboundHttp* outbound_;
};

// What a webhook's secret is sealed to (SecretBox AAD).
std::string webhook_secret_binding(const std::string& webhook_id);

}  // namespace nucleo::services
