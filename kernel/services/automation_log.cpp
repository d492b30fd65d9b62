#include "kernel/services/automation_log.hpp"

#include "kernel/domain/json_text.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {

bool AutomationLog::fired(const CallContext& ctx, const std::string& rule_id, const std::string& event_id) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    bool found = false;
    store::query(tx.session(),
                 "SELECT 1 FROM automation_firings WHERE tenant_id = :p0 AND rule_id = :p1 AND event_id = :p2",
                 {ctx.tenant_id, rule_id, event_id}, [&](const store::Row&) { found = true; });
    return found;
  });
}

bool AutomationLog::record(const CallContext& ctx, const RuleFiring& f) {
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    bool recorded = store::execute(tx.session(),
                                   "INSERT INTO automation_firings (tenant_id, rule_id, event_id, rule_version, fired_at,"
                                   " outcome, summary) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6) ON CONFLICT DO NOTHING",
                                   {ctx.tenant_id, f.rule_id, f.event_id, f.rule_version, ctx.now().micros, f.outcome,
                                    to_json_text(f.summary)}) == 1;
    // What a rule did is audited action by action; what it was refused, here.
    if (recorded && f.outcome == "failed")
      commit_change(tx, ctx, {"automation.rule_failed", "automation_rule", f.rule_id,
                              {{"event_id", {{"from", nullptr}, {"to", f.event_id}}},
                               {"error", {{"from", nullptr}, {"to", f.summary.value("error", Json())}}}},
                              f.summary});
    return recorded;
  });
}

std::vector<Json> AutomationLog::firings(const CallContext& ctx, const std::string& rule_id, std::size_t limit) {
  require_role(ctx, {"admin", "manager", "auditor"}, "automation is for the admin, manager and auditor roles",
               "automation_rules:read");
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT event_id, rule_version, fired_at, outcome, summary FROM automation_firings"
                 " WHERE tenant_id = :p0 AND rule_id = :p1 ORDER BY fired_at DESC, event_id DESC LIMIT :p2",
                 {ctx.tenant_id, rule_id, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) {
                   out.push_back({{"rule_id", rule_id},
                                  {"event_id", store::required_text(r, 0)},
                                  {"rule_version", store::required_integer(r, 1)},
                                  {"fired_at", format_rfc3339(Timestamp{store::required_integer(r, 2)})},
                                  {"outcome", store::required_text(r, 3)},
                                  {"summary", Json::parse(store::required_text(r, 4))}});
                 });
    return out;
  });
}

void AutomationLog::emit(const CallContext& ctx, const std::string& name, const std::string& entity_type,
                         const std::string& entity_id, const Json& data) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    // The audit trail records that the rule emitted it; the data goes to subscribers only.
    Change change{"custom." + name, entity_type, entity_id, Json::object(), {{"data", data}}};
    commit_change(tx, ctx, change);
  });
}

void AutomationLog::stop_loop(const CallContext& ctx, const std::string& rule_id, std::int64_t rule_version,
                              const Json& envelope) {
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    const std::string event_id = envelope.value("id", "");
    Json summary = {{"entity", envelope.value("entity", Json())},
                    {"event_name", envelope.value("name", "")},
                    {"depth", envelope.value("depth", 0)}};
    bool recorded =
        store::execute(tx.session(),
                       "INSERT INTO automation_firings (tenant_id, rule_id, event_id, rule_version, fired_at, outcome,"
                       " summary) VALUES (:p0, :p1, :p2, :p3, :p4, 'loop_stopped', :p5) ON CONFLICT DO NOTHING",
                       {ctx.tenant_id, rule_id, event_id, rule_version, ctx.now().micros, to_json_text(summary)}) == 1;
    if (!recorded) return;
    Json changes = {{"event_id", {{"from", nullptr}, {"to", event_id}}},
                    {"depth", {{"from", nullptr}, {"to", summary["depth"]}}}};
    commit_change(tx, ctx, {"automation.loop_stopped", "automation_rule", rule_id, changes, summary});
  });
}

std::vector<Json> AutomationLog::recent_events(const CallContext& ctx, std::size_t limit) {
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(),
                 "SELECT id, name, occurred_at, actor, entity_type, entity_id, data, causation_id, depth FROM outbox"
                 " WHERE tenant_id = :p0 ORDER BY seq DESC LIMIT :p1",
                 {ctx.tenant_id, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) {
                   auto cause = store::text_at(r, 7);
                   out.push_back({{"id", store::required_text(r, 0)},
                                  {"name", store::required_text(r, 1)},
                                  {"tenant_id", ctx.tenant_id},
                                  {"occurred_at", format_rfc3339(Timestamp{store::required_integer(r, 2)})},
                                  {"actor", Json::parse(store::required_text(r, 3))},
                                  {"entity", {{"type", store::required_text(r, 4)}, {"id", store::required_text(r, 5)}}},
                                  {"data", Json::parse(store::required_text(r, 6))},
                                  {"causation_id", cause ? Json(*cause) : Json()},
                                  {"depth", store::integer_at(r, 8).value_or(0)}});
                 });
    return out;
  });
}

}  // namespace nucleo::services
