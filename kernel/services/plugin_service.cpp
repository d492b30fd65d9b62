#include "kernel/services/plugin_service.hpp"

#include "kernel/services/access_policy.hpp"

#include "kernel/services/tenant_service.hpp"
#include "kernel/services/write.hpp"

namespace nucleo::services {

std::size_t PluginService::record_load_failures(const CallContext& ctx,
                                                const std::vector<PluginLoadFailure>& failures) {
  if (failures.empty()) return 0;
  std::size_t recorded = 0;
  for (const auto& tenant : TenantService(deps_).list()) {
    if (!tenant["archived_at"].is_null()) continue;
    CallContext in_tenant = ctx;
    in_tenant.tenant_id = tenant["id"].get<std::string>();
    deps_.database.write(in_tenant.tenant_id, [&](store::Transaction& tx) {
      for (const auto& f : failures) {
        auto event = audit_event(in_tenant, "plugin.load_failed", "plugin", f.id.empty() ? f.alias : f.id,
                                 in_tenant.now());
        event.changes = {{"alias", {{"from", nullptr}, {"to", f.alias}}},
                         {"file", {{"from", nullptr}, {"to", f.file}}},
                         {"version", {{"from", nullptr}, {"to", f.version.empty() ? Json() : Json(f.version)}}},
                         {"problem", {{"from", nullptr}, {"to", f.problem}}}};
        audit::record_audit_event(tx, event);
        ++recorded;
      }
    });
  }
  return recorded;
}

void PluginService::require_reader(const CallContext& ctx) {
  require_role(ctx, {"admin", "auditor"}, "the plugin list is readable by the admin and auditor roles only",
               "plugins:read");
}

}  // namespace nucleo::services
