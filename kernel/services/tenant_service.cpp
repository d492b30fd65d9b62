#include "kernel/services/tenant_service.hpp"

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/events/outbox.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {

Json TenantService::create(const CallContext& ctx, const std::string& raw_name) {
  std::string name = raw_name;
  name.erase(0, name.find_first_not_of(" \t"));
  name.erase(name.find_last_not_of(" \t") + 1);
  if (name.empty() || name.size() > 200)
    throw Error(ErrorCode::validation, "invalid tenant: name must be 1 to 200 characters",
                {{"name", "must be 1 to 200 characters"}});
  Timestamp now = ctx.now();
  Json tenant = {{"id", generate_id(id_prefix::tenant, now)},
                 {"name", name},
                 {"version", 1},
                 {"created_at", format_rfc3339(now)},
                 {"updated_at", format_rfc3339(now)},
                 {"archived_at", nullptr}};
  std::string id = tenant["id"];
  deps_.worker_database.write(id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO tenants (id, name, version, created_at, updated_at) VALUES (:p0, :p1, 1, :p2, :p3)",
                   {id, name, now.micros, now.micros});
    audit::AuditEvent e;
    e.id = generate_id(id_prefix::audit_event, now);
    e.tenant_id = id;
    e.recorded_at = now;
    e.actor = ctx.actor;
    e.action = "tenant.created";
    e.entity_type = "tenant";
    e.entity_id = id;
    e.request_id = ctx.request_id;
    e.source_ip = ctx.source_ip;
    e.reason = ctx.reason;
    e.changes = audit::diff_changes(Json(), tenant);
    audit::record_audit_event(tx, e);

    events::DomainEvent event;
    event.id = generate_id(id_prefix::domain_event, now);
    event.name = "tenant.created";
    event.tenant_id = id;
    event.occurred_at = now;
    event.actor = ctx.actor;
    event.entity_type = "tenant";
    event.entity_id = id;
    event.data = {{"record", tenant}};
    event.request_id = ctx.request_id;
    events::enqueue_event(tx, event);
  });
  return tenant;
}

bool TenantService::exists(const std::string& tenant_id) {
  return deps_.worker_database.read("", [&](store::Transaction& tx) {
    bool found = false;
    store::query(tx.session(), "SELECT 1 FROM tenants WHERE id = :p0 AND archived_at IS NULL", {tenant_id},
                 [&](const soci::row&) { found = true; });
    return found;
  });
}

std::vector<Json> TenantService::list() {
  return deps_.worker_database.read("", [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), "SELECT id, name, created_at, archived_at FROM tenants ORDER BY id", {},
                 [&](const soci::row& row) {
                   auto archived = store::integer_at(row, 3);
                   out.push_back({{"id", *store::text_at(row, 0)},
                                  {"name", *store::text_at(row, 1)},
                                  {"created_at", format_rfc3339(Timestamp{*store::integer_at(row, 2)})},
                                  {"archived_at", archived ? Json(format_rfc3339(Timestamp{*archived})) : Json()}});
                 });
    return out;
  });
}

}  // namespace nucleo::services
