#pragma once

// A plugin's settings per tenant (docs/plugin-authoring.md, "Tenant settings"): the
// manifest declares them ("tenant_settings", keyed like config_schema, "secret": true
// for credentials); the tenant's admin sets them over the API; the plugin reads its
// call's tenant's through the host (plugin_abi.h tenant_settings). Secrets are sealed
// at rest (SecretBox, bound to the tenant and plugin) and never answered over the API
// nor audited — only their names.

#include <optional>
#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class PluginSettingsService {
 public:
  // `schema`: the manifest's "tenant_settings" of `plugin_id`.
  PluginSettingsService(ServiceDependencies deps, std::string plugin_id, Json schema)
      : deps_(deps), plugin_id_(std::move(plugin_id)), schema_(std::move(schema)) {}

  // {"plugin_id","settings" (defaults applied),"secret_names","version","updated_at"};
  // version 0 and updated_at null before the admin sets anything. Admin and auditor.
  Json get(const CallContext& ctx);
  // Replaces the non-secret settings with body "settings" and sets (a string) or removes
  // (null) the secrets named in body "secrets"; others stay. Every key must be declared,
  // secret ones only under "secrets"; required ones must end up set. With
  // `expected_version`, another version is precondition_failed. Admin only; audited as
  // plugin_settings.updated.
  Json put(const CallContext& ctx, const Json& body, std::optional<std::int64_t> expected_version);
  // What the plugin reads for the call's tenant: {"settings", "secrets"} unsealed.
  Json for_plugin(const CallContext& ctx);

 private:
  struct Stored;
  std::optional<Stored> load(store::Transaction& tx, const std::string& tenant_id);
  Json answer(const std::optional<Stored>& stored) const;
  Json with_defaults(const Json& settings) const;
  std::string binding(const std::string& tenant_id) const;

  ServiceDependencies deps_;
  std::string plugin_id_;
  Json schema_;
};

}  // namespace nucleo::services
