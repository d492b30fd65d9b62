#include "kernel/automation/rule_scan.hpp"

#include "kernel/events/schedule.hpp"
#include "kernel/services/automation_log.hpp"
#include "kernel/services/tenant_service.hpp"

namespace nucleo::automation {
namespace {

using services::CallContext;
using services::RecordService;

constexpr std::int64_t micros_per_day = 86'400'000'000, micros_per_hour = 3'600'000'000;
constexpr std::size_t page = 200;

// The search filters that find a rule's candidates: its conditions on the record itself
// (the others are checked on each candidate) and the trigger's own.
Json candidate_search(const CompiledRule& rule, Timestamp now) {
  Json filters = Json::array();
  for (const auto& c : rule.conditions)
    if (c.scope == rule.trigger.entity_type)
      filters.push_back({{"field", c.filter.field}, {"op", c.filter.op}, {"value", c.filter.value}});
  if (rule.trigger.time == "idle")
    filters.push_back({{"field", "updated_at"}, {"op", "lt"},
                       {"value", format_rfc3339(Timestamp{now.micros - rule.trigger.idle_days * micros_per_day})}});
  if (rule.trigger.time == "overdue") {
    filters.push_back({{"field", "status"}, {"op", "eq"}, {"value", "open"}});
    filters.push_back({{"field", "due_at"}, {"op", "lt"}, {"value", format_rfc3339(now)}});
  }
  Json body = {{"sort", {{{"field", "updated_at"}, {"direction", "asc"}}}}, {"limit", page}};
  if (!filters.empty()) body["filter_groups"] = {{{"filters", filters}}};
  return body;
}

// When the record last saw activity: its last change, or a later interaction on it.
std::int64_t last_activity(RecordService& records, const CallContext& ctx, const std::string& type, const Json& record) {
  std::int64_t latest = parse_rfc3339(record.value("updated_at", ""))->micros;
  Json body = {{"filter_groups", {{{"filters", {{{"field", type + "_id"}, {"op", "eq"}, {"value", record["id"]}}}}}}},
               {"sort", {{{"field", "created_at"}, {"direction", "desc"}}}},
               {"limit", 1}};
  for (const auto& text : records.search(ctx, "interaction", body, Json(), 1).records) {
    Json interaction = Json::parse(text);
    const Json& at = interaction["occurred_at"].is_string() ? interaction["occurred_at"] : interaction["created_at"];
    latest = std::max(latest, parse_rfc3339(at.get<std::string>())->micros);
  }
  return latest;
}

// The latest period of the schedule at or before `now`, at most an hour back; none when
// no period fell in that hour.
std::optional<Timestamp> due_period(const std::string& schedule, const std::string& zone, Timestamp now) {
  auto s = events::Schedule::parse(schedule);
  Timestamp p = s.next_after(Timestamp{now.micros - micros_per_hour}, zone);
  if (p.micros > now.micros) return std::nullopt;
  for (Timestamp next = s.next_after(p, zone); next.micros <= now.micros; next = s.next_after(p, zone)) p = next;
  return p;
}

Json made_up_event(const CallContext& ctx, const CompiledRule& rule, const std::string& id, const Json& record) {
  return {{"id", id},
          {"name", rule.trigger.event_pattern},
          {"tenant_id", ctx.tenant_id},
          {"occurred_at", format_rfc3339(ctx.now())},
          {"actor", {{"type", "system"}, {"id", rules_scan_job_name}, {"on_behalf_of", nullptr}}},
          {"entity", {{"type", rule.trigger.entity_type}, {"id", record["id"]}}},
          {"data", {{"record", record}}},
          {"causation_id", nullptr},
          {"depth", 0}};
}

}  // namespace

std::vector<Json> time_events(services::ServiceDependencies deps, const CallContext& ctx, const CompiledRule& rule,
                              std::size_t limit) {
  std::vector<Json> out;
  if (!rule.trigger.on_time()) return out;
  const Timestamp now = ctx.now();
  std::optional<Timestamp> period;
  if (rule.trigger.time == "schedule") {
    period = due_period(rule.trigger.schedule, services::TenantService(deps).time_zone_of(ctx.tenant_id), now);
    if (!period) return out;
  }
  CallContext reader = ctx;
  reader.principal = nullptr;  // a rule sees the whole tenant
  RecordService records(deps);
  services::AutomationLog log(deps);
  const std::string type = rule.trigger.entity_type;
  const std::int64_t idle_cutoff = now.micros - rule.trigger.idle_days * micros_per_day;
  Json body = candidate_search(rule, now);
  Json after;
  do {
    auto found = records.search(reader, type, body, after, page);
    for (const auto& text : found.records) {
      if (out.size() >= limit) return out;
      Json record = Json::parse(text);
      const std::string id = record["id"];
      std::string event_id;
      if (rule.trigger.time == "idle") {
        std::int64_t active = last_activity(records, reader, type, record);
        if (active >= idle_cutoff) continue;
        event_id = "idle:" + id + ":" + std::to_string(active);
      } else if (rule.trigger.time == "overdue") {
        event_id = "overdue:" + id + ":" + std::to_string(parse_rfc3339(record["due_at"].get<std::string>())->micros);
      } else {
        event_id = "scheduled:" + id + ":" + std::to_string(period->micros);
      }
      // Fired for this period already: not one of the `limit`, or those would hide the rest.
      if (!rule.id.empty() && log.fired(ctx, rule.id, event_id)) continue;
      out.push_back(made_up_event(ctx, rule, event_id, record));
    }
    after = found.next;
  } while (!after.is_null());
  return out;
}

Json scan_time_rules(services::ServiceDependencies deps, const CallContext& ctx, const ChannelAccess& channels,
                     const AutomationSettings& settings) {
  store::RecordQuery q;
  q.equals = {{"enabled", true}};
  q.limit = 1000;
  std::size_t rules = 0, candidates = 0, fired = 0, failed = 0;
  std::optional<Error> retry;
  std::optional<StageKeys> keys;
  for (const auto& stored : RecordService(deps).list(ctx, "automation_rule", q)) {
    if (!keys) keys = stage_keys(deps, ctx);
    CompiledRule rule;
    try {
      rule = compile_rule(stored, *keys);
    } catch (const Error&) {
      continue;  // checked when saved; one that no longer compiles fires nothing
    }
    if (!rule.trigger.on_time()) continue;
    ++rules;
    for (const auto& event : time_events(deps, ctx, rule, settings.scan_max_per_rule)) {
      ++candidates;
      try {
        Json outcome = fire_rule(deps, *ctx.clock, channels, settings, rule, event);
        fired += outcome["outcome"] == "done";
        failed += outcome["outcome"] == "failed";
      } catch (const Error& e) {
        if (!retry) retry = e;  // the next scan tries again; the other candidates go on
      }
    }
  }
  if (retry) throw *retry;
  return {{"rules", rules}, {"candidates", candidates}, {"fired", fired}, {"failed", failed}};
}

events::JobDefinition rules_scan_job(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                     AutomationSettings settings, const std::string& schedule) {
  events::JobDefinition job;
  job.name = rules_scan_job_name;
  job.schedule = events::Schedule::parse(schedule);
  job.run = [deps, &clock, channels, settings](const Json& row) -> std::string {
    CallContext ctx;
    ctx.tenant_id = row.at("tenant_id").get<std::string>();
    ctx.actor = {"system", rules_scan_job_name, ""};
    ctx.request_id = row.value("job_id", "");
    ctx.clock = &clock;
    scan_time_rules(deps, ctx, channels, settings);
    return "";
  };
  return job;
}

}  // namespace nucleo::automation
