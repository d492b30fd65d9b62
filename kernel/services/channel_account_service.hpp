#pragma once

// Channel accounts (DESIGN §6): a tenant's account on a channel a plugin serves — a
// WhatsApp phone_number_id, a mailbox —: plugin id, external id, settings (`config`)
// and secrets. Managed by admins at /v1/channels/accounts (audited as
// channel_account.*). Secrets are write-only: sealed at rest under the deployment's
// secrets key, never returned — the API shows their names only.
//
// Inbound webhooks reach a plugin's signed or public route without a tenant; the plugin
// resolves the account by external id (`resolve`, the channels.resolve service), which
// puts the call in the account's tenant.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// A resolved account, as its plugin sees it: with its secrets opened.
struct ChannelAccount {
  std::string id, tenant_id, plugin_id, external_id;
  Json config = Json::object();
  Json secrets = Json::object();
};

class ChannelAccountService {
 public:
  // `loaded_plugins`: the plugin ids an account may name (null: any well-formed id).
  explicit ChannelAccountService(ServiceDependencies deps, const std::set<std::string>* loaded_plugins = nullptr)
      : deps_(deps), loaded_plugins_(loaded_plugins) {}

  // body: {"plugin_id", "external_id", "name"?, "config"?: {}, "secrets"?: {name: string}}.
  Json create(const CallContext& ctx, const Json& body);
  std::vector<Json> list(const CallContext& ctx);
  Json get(const CallContext& ctx, const std::string& id);
  // patch: name, config (replaced), secrets (merged: a string sets one, null removes
  // it), status (active | disabled).
  Json update(const CallContext& ctx, const std::string& id, const Json& patch,
              std::optional<std::int64_t> expected_version);
  void remove(const CallContext& ctx, const std::string& id);

  // The active account of `plugin_id` with this external id, in any tenant.
  std::optional<ChannelAccount> resolve(const std::string& plugin_id, const std::string& external_id);

 private:
  Json checked(const Json& body, bool creating) const;
  std::optional<ChannelAccount> resolve_any(const std::string& plugin_id, const std::string& external_id,
                                            bool active_only = false);
  ServiceDependencies deps_;
  const std::set<std::string>* loaded_plugins_;
};

}  // namespace nucleo::services
