// Automation rules' own routes (docs/automation.md): the dry run, enabling and disabling,
// and what a rule did. A rule is a record served with the generic protocol at
// /v1/automation/rules (create, read, change, archive, search); its history is the audit
// trail's (GET /v1/audit/entities/automation_rule/{id}/history).
#include "kernel/automation/rules.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/automation_log.hpp"

namespace nucleo::http {
namespace {

constexpr std::int64_t default_dry_run_events = 200, max_dry_run_events = 5000;

Json dry_run_schema() {
  Json text = {{"type", "string"}};
  Json plan = {{"type", "object"},
               {"required", {"rule_id", "rule_version", "event_id", "event_name", "entity", "matched", "actions"}},
               {"properties",
                {{"rule_id", text}, {"rule_version", {{"type", {"integer", "null"}}}}, {"event_id", text},
                 {"event_name", text}, {"entity", {{"type", "object"}}}, {"matched", {{"type", "boolean"}}},
                 {"already_fired", {{"type", "boolean"}}},
                 {"actions", {{"type", "array"},
                              {"items", {{"type", "object"}}},
                              {"description", "each action with its arguments resolved; \"skipped\" says why one "
                                              "would do nothing"}}}}}};
  return {{"type", "object"},
          {"required", {"rule", "generated_at", "examined", "would_fire", "not_matched"}},
          {"properties",
           {{"rule", {{"type", "object"}}},
            {"generated_at", {{"type", "string"}, {"format", "date-time"}}},
            {"examined", {{"type", "integer"}, {"description", "the tenant's latest events replayed"}}},
            {"would_fire", {{"type", "array"}, {"items", plan}}},
            {"not_matched", {{"type", "integer"}, {"description", "events the trigger took whose conditions did not hold"}}}}},
          {"additionalProperties", false}};
}

Json firing_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"rule_id", "event_id", "rule_version", "fired_at", "outcome", "summary"}},
          {"properties",
           {{"rule_id", text}, {"event_id", text}, {"rule_version", {{"type", "integer"}}},
            {"fired_at", {{"type", "string"}, {"format", "date-time"}}},
            {"outcome", {{"type", "string"}, {"enum", {"done", "failed", "loop_stopped"}}}},
            {"summary", {{"type", "object"}, {"description", "the record acted on and each action's result, or the error"}}}}},
          {"additionalProperties", false}};
}

std::size_t events_to_replay(const ApiRequest& req) {
  return static_cast<std::size_t>(
      integer_parameter(req, "events", 1, max_dry_run_events).value_or(default_dry_run_events));
}

// A rule document not saved yet, checked as creating it would check it.
Json unsaved_rule(const ApiRequest& req, const services::ServiceDependencies& deps) {
  Json body = req.json_object();
  return validate_record_input(entity_spec("automation_rule"), body, WriteMode::create, deps.normalisation);
}

ApiResponse set_enabled(ApiRequest& req, services::ServiceDependencies deps, bool enabled) {
  return write_response(services::RecordService(deps).update(req.ctx, "automation_rule", req.params.at("id"),
                                                             {{"enabled", enabled}}, expected_version(req)));
}

}  // namespace

void add_automation_routes(Router& router, services::ServiceDependencies deps) {
  const EntitySpec& spec = entity_spec("automation_rule");
  const Access read = access_to_read(spec), change = access_to_change(spec);
  router.add(answering(Route{"POST", "/v1/automation/rules/dry-run", "dry_run_unsaved_automation_rule",
                             "What a rule document not saved yet would do for the tenant's latest events "
                             "(?events=, default 200): the records it would touch and each action, writing nothing",
                             AuthMode::bearer, "", "automation", {"events"},
                             [=](ApiRequest& req) {
                               ApiResponse r;
                               r.body = automation::dry_run(deps, req.ctx, unsaved_rule(req, deps), events_to_replay(req));
                               return r;
                             },
                             Json{{"$ref", "#/components/schemas/AutomationRuleCreate"}}},
                       200, dry_run_schema()),
             read);
  router.add(answering(Route{"POST", "/v1/automation/rules/{id}/dry-run", "dry_run_automation_rule",
                             "What the rule would do for the tenant's latest events (?events=, default 200), as it "
                             "would then do it, writing nothing",
                             AuthMode::bearer, "", "automation", {"events"},
                             [=](ApiRequest& req) {
                               Json rule = services::RecordService(deps).get(req.ctx, "automation_rule", req.params.at("id"));
                               ApiResponse r;
                               r.body = automation::dry_run(deps, req.ctx, rule, events_to_replay(req));
                               return r;
                             }},
                       200, dry_run_schema()),
             read);
  for (bool enabled : {true, false}) {
    const std::string verb = enabled ? "enable" : "disable";
    Route route{"POST", "/v1/automation/rules/{id}/" + verb, verb + "_automation_rule",
                enabled ? "Enable a rule: it fires on the events from now on (If-Match: version)"
                        : "Disable a rule: it fires no more (If-Match: version)",
                AuthMode::bearer, "automation_rule", "action", {},
                [=](ApiRequest& req) { return set_enabled(req, deps, enabled); }};
    route.conditional = true;
    router.add(route, change);
  }
  router.add(answering(Route{"GET", "/v1/automation/rules/{id}/firings", "list_automation_rule_firings",
                             "What the rule did, newest first (?limit=, default 50): per event, done, failed "
                             "(and why) or loop_stopped",
                             AuthMode::bearer, "", "automation", {"limit"},
                             [=](ApiRequest& req) {
                               services::RecordService(deps).get(req.ctx, "automation_rule", req.params.at("id"));
                               auto limit = integer_parameter(req, "limit", 1, 500).value_or(50);
                               ApiResponse r;
                               r.body["data"] = array_of(services::AutomationLog(deps).firings(
                                   req.ctx, req.params.at("id"), static_cast<std::size_t>(limit)));
                               return r;
                             }},
                       200, list_schema(firing_schema())),
             read);
}

}  // namespace nucleo::http
