#include "kernel/services/tenant_service.hpp"

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/events/schedule.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {

Json TenantService::create(const CallContext& ctx, const std::string& raw_name, const std::string& time_zone) {
  std::string name = raw_name;
  name.erase(0, name.find_first_not_of(" \t"));
  name.erase(name.find_last_not_of(" \t") + 1);
  if (name.empty() || name.size() > 200)
    throw Error(ErrorCode::validation, "invalid tenant: name must be 1 to 200 characters",
                {{"name", "must be 1 to 200 characters"}});
  if (!time_zone.empty()) events::Schedule::check_zone(time_zone);
  Timestamp now = ctx.now();
  Json tenant = {{"id", generate_id(id_prefix::tenant, now)},
                 {"name", name},
                 {"time_zone", time_zone.empty() ? Json() : Json(time_zone)},
                 {"version", 1},
                 {"created_at", format_rfc3339(now)},
                 {"updated_at", format_rfc3339(now)},
                 {"archived_at", nullptr}};
  std::string id = tenant["id"];
  deps_.worker_database.write(id, [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO tenants (id, name, time_zone, version, created_at, updated_at)"
                   " VALUES (:p0, :p1, :p2, 1, :p3, :p4)",
                   {id, name, time_zone.empty() ? store::SqlValue{} : store::SqlValue{time_zone}, now.micros,
                    now.micros});
    CallContext in_tenant = ctx;
    in_tenant.tenant_id = id;
    commit_change(tx, in_tenant, {"tenant.created", "tenant", id, audit::diff_changes(Json(), tenant), tenant});
  });
  return tenant;
}

Json TenantService::set_time_zone(const CallContext& ctx, const std::string& tenant_id, const std::string& time_zone) {
  events::Schedule::check_zone(time_zone);
  return deps_.worker_database.write(tenant_id, [&](store::Transaction& tx) {
    Json before;
    store::query(tx.session(),
                 "SELECT id, name, time_zone, version, created_at, updated_at FROM tenants WHERE id = :p0"
                 " AND archived_at IS NULL",
                 {tenant_id}, [&](const store::Row& r) {
                   auto zone = store::text_at(r, 2);
                   before = {{"id", store::required_text(r, 0)},
                             {"name", store::required_text(r, 1)},
                             {"time_zone", zone ? Json(*zone) : Json()},
                             {"version", store::required_integer(r, 3)},
                             {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 4)})},
                             {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 5)})}};
                 });
    if (before.is_null()) throw Error(ErrorCode::not_found, "tenant " + tenant_id + " not found");
    Timestamp now = ctx.now();
    Json after = before;
    after["time_zone"] = time_zone;
    after["version"] = before["version"].get<std::int64_t>() + 1;
    after["updated_at"] = format_rfc3339(now);
    store::execute(tx.session(),
                   "UPDATE tenants SET time_zone = :p0, version = version + 1, updated_at = :p1 WHERE id = :p2",
                   {time_zone, now.micros, tenant_id});
    CallContext in_tenant = ctx;
    in_tenant.tenant_id = tenant_id;
    commit_change(tx, in_tenant, {"tenant.updated", "tenant", tenant_id, audit::diff_changes(before, after), after});
    return after;
  });
}

bool TenantService::exists(const std::string& tenant_id) {
  return deps_.worker_database.read("", [&](store::Transaction& tx) {
    bool found = false;
    store::query(tx.session(), "SELECT 1 FROM tenants WHERE id = :p0 AND archived_at IS NULL", {tenant_id},
                 [&](const store::Row&) { found = true; });
    return found;
  });
}

std::string TenantService::time_zone_of(const std::string& tenant_id) {
  return deps_.worker_database.read("", [&](store::Transaction& tx) {
    std::string zone;
    store::query(tx.session(), "SELECT time_zone FROM tenants WHERE id = :p0", {tenant_id},
                 [&](const store::Row& r) { zone = store::text_at(r, 0).value_or(""); });
    return zone;
  });
}

std::vector<Json> TenantService::list() {
  return deps_.worker_database.read("", [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), "SELECT id, name, created_at, archived_at FROM tenants ORDER BY id", {},
                 [&](const store::Row& row) {
                   auto archived = store::integer_at(row, 3);
                   out.push_back({{"id", store::required_text(row, 0)},
                                  {"name", store::required_text(row, 1)},
                                  {"created_at", format_rfc3339(Timestamp{store::required_integer(row, 2)})},
                                  {"archived_at", archived ? Json(format_rfc3339(Timestamp{*archived})) : Json()}});
                 });
    return out;
  });
}

}  // namespace nucleo::services
