#include "kernel/services/job_service.hpp"

#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

constexpr const char* columns =
    "id, name, attempts, last_error, last_run_at, dead_at, run_at, created_at FROM jobs";

// "plugin:<id>:<job>" → "<id>"; empty for the kernel's own jobs.
std::string plugin_of(const std::string& name) {
  if (name.rfind("plugin:", 0) != 0) return "";
  auto end = name.find(':', 7);
  return name.substr(7, end == std::string::npos ? std::string::npos : end - 7);
}

Json job_json(const store::Row& r) {
  auto time = [](std::optional<std::int64_t> t) { return t ? Json(format_rfc3339(Timestamp{*t})) : Json(); };
  std::string name = store::required_text(r, 1);
  auto dead_at = store::integer_at(r, 5);
  return {{"id", store::required_text(r, 0)},
          {"name", name},
          {"plugin_id", plugin_of(name).empty() ? Json() : Json(plugin_of(name))},
          {"state", dead_at ? "dead" : "failing"},
          {"attempts", store::integer_at(r, 2).value_or(0)},
          {"last_error", store::text_at(r, 3).value_or("")},
          {"last_run_at", time(store::integer_at(r, 4))},
          {"dead_at", time(dead_at)},
          {"run_at", time(store::integer_at(r, 6))},
          {"created_at", time(store::integer_at(r, 7))}};
}

std::optional<Json> read_job(store::Transaction& tx, const CallContext& ctx, const std::string& id) {
  std::optional<Json> job;
  store::query(tx.session(), std::string("SELECT ") + columns + " WHERE tenant_id = :p0 AND id = :p1",
               {ctx.tenant_id, id}, [&](const store::Row& r) { job = job_json(r); });
  return job;
}

// The job, when it is dead in the caller's tenant.
Json dead_job(store::Transaction& tx, const CallContext& ctx, const std::string& id) {
  auto job = read_job(tx, ctx, id);
  if (!job || (*job)["state"] != "dead") throw Error(ErrorCode::not_found, "no dead job " + id + " in this tenant");
  return *job;
}

}  // namespace

std::vector<Json> JobService::failed(const CallContext& ctx, const std::string& state, const std::string& plugin_id,
                                     std::size_t limit) {
  require_role(ctx, {"admin"}, "failed jobs are for the admin role only", "jobs:read");
  if (!state.empty() && state != "failing" && state != "dead")
    throw Error(ErrorCode::validation, "state must be failing or dead", {{"state", "must be failing or dead"}});
  std::string sql = std::string("SELECT ") + columns + " WHERE tenant_id = :p0 AND last_error IS NOT NULL";
  std::vector<store::SqlValue> values{ctx.tenant_id};
  if (state == "failing") sql += " AND dead_at IS NULL";
  if (state == "dead") sql += " AND dead_at IS NOT NULL";
  if (!plugin_id.empty()) {
    sql += " AND name LIKE :p" + std::to_string(values.size());
    values.push_back("plugin:" + plugin_id + ":%");
  }
  sql += " ORDER BY COALESCE(dead_at, last_run_at) DESC, id DESC LIMIT :p" + std::to_string(values.size());
  values.push_back(static_cast<std::int64_t>(limit));
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), sql, values, [&](const store::Row& r) { out.push_back(job_json(r)); });
    return out;
  });
}

Json JobService::retry(const CallContext& ctx, const std::string& id) {
  require_role(ctx, {"admin"}, "failed jobs are for the admin role only", "jobs:write");
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    tx.announce(store::Work::jobs);  // due now
    Json before = dead_job(tx, ctx, id);
    std::int64_t now = ctx.now().micros;
    // Conditional, so that of two concurrent retries one changes the row and the other
    // is told there is no dead job left (and nothing is audited twice).
    if (store::execute(tx.session(),
                       "UPDATE jobs SET dead_at = NULL, attempts = 0, run_at = :p0"
                       " WHERE tenant_id = :p1 AND id = :p2 AND dead_at IS NOT NULL",
                       {now, ctx.tenant_id, id}) == 0)
      throw Error(ErrorCode::not_found, "no dead job " + id + " in this tenant");
    Json changes = {{"dead_at", {{"from", before["dead_at"]}, {"to", nullptr}}},
                    {"attempts", {{"from", before["attempts"]}, {"to", 0}}}};
    Json after = *read_job(tx, ctx, id);
    commit_change(tx, ctx, {"job.retried", "job", id, changes, after});
    return after;
  });
}

void JobService::discard(const CallContext& ctx, const std::string& id) {
  require_role(ctx, {"admin"}, "failed jobs are for the admin role only", "jobs:write");
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    Json before = dead_job(tx, ctx, id);
    if (store::execute(tx.session(), "DELETE FROM jobs WHERE tenant_id = :p0 AND id = :p1 AND dead_at IS NOT NULL",
                       {ctx.tenant_id, id}) == 0)
      throw Error(ErrorCode::not_found, "no dead job " + id + " in this tenant");  // a concurrent discard won
    Json changes = {{"name", {{"from", before["name"]}, {"to", nullptr}}},
                    {"last_error", {{"from", before["last_error"]}, {"to", nullptr}}}};
    commit_change(tx, ctx, {"job.discarded", "job", id, changes, nullptr});
  });
}

}  // namespace nucleo::services
