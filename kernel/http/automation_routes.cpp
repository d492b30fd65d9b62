// Automation rules' own routes (docs/automation.md): the dry run, enabling and disabling,
// and what a rule did. A rule is a record served with the generic protocol at
// /v1/automation/rules (create, read, change, archive, search); its history is the audit
// trail's (GET /v1/audit/entities/automation_rule/{id}/history).
#include "kernel/automation/cadences.hpp"
#include "kernel/automation/rules.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/automation_log.hpp"
#include "kernel/services/cadence_enrolments.hpp"

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

Json enrolment_schema() {
  Json text = {{"type", "string"}};
  Json nullable = {{"type", {"string", "null"}}};
  return {{"type", "object"},
          {"required", {"id", "cadence_id", "contact_id", "step", "next_at", "status", "history", "version"}},
          {"properties",
           {{"id", text}, {"cadence_id", text}, {"cadence_version", {{"type", "integer"}}}, {"contact_id", text},
            {"deal_id", nullable}, {"owner_id", nullable}, {"step", {{"type", "integer"}, {"description", "the step due next"}}},
            {"next_at", nullable}, {"status", {{"type", "string"}, {"enum", {"active", "stopped", "completed"}}}},
            {"stop_reason", {{"type", {"string", "null"}},
                             {"description", "replied, stage_changed, deal_closed, consent_revoked, step_failed: …, "
                                             "stopped_by_rule, cadence_inactive, contact_gone or a person's reason"}}},
            {"last_error", {{"type", {"string", "null"}}, {"description", "why the step due next failed or waits"}}},
            {"attempts", {{"type", "integer"}}}, {"history", {{"type", "array"}, {"items", {{"type", "object"}}}}},
            {"enrolled_by", text}, {"enrolled_at", text}, {"updated_at", text}, {"version", {{"type", "integer"}}}}}};
}

void add_cadence_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  const EntitySpec& spec = entity_spec("cadence");
  const Access read = access_to_read(spec), change = access_to_change(spec);
  router.add(answering(Route{"GET", "/v1/cadences/{id}/enrolments", "list_cadence_enrolments",
                             "The cadence's enrolments (?contact_id=, ?deal_id=, ?status=): each one's step due next "
                             "and when, what each step did, or why it stopped",
                             AuthMode::bearer, "", "cadences", {"contact_id", "deal_id", "status", "limit", "cursor"},
                             [=](ApiRequest& req) {
                               services::RecordService(deps).get(req.ctx, "cadence", req.params.at("id"));
                               services::EnrolmentQuery q;
                               q.cadence_id = req.params.at("id");
                               q.contact_id = text_parameter(req, "contact_id");
                               q.deal_id = text_parameter(req, "deal_id");
                               q.status = text_parameter(req, "status");
                               if (!q.status.empty() && q.status != "active" && q.status != "stopped" && q.status != "completed")
                                 throw BadRequest("status must be active, stopped or completed",
                                                  {{"status", "must be active, stopped or completed"}});
                               q.limit = page_size(req, settings);
                               if (req.query.count("cursor"))
                                 q.after_id = decode_cursor("cadence_enrolments", req.query.at("cursor"), settings.cursor_secret);
                               auto page = services::CadenceEnrolmentService(deps).list(req.ctx, q);
                               ApiResponse r;
                               r.body["next_cursor"] = page.size() == q.limit
                                                           ? Json(encode_cursor("cadence_enrolments", page.back()["id"],
                                                                                settings.cursor_secret))
                                                           : Json();
                               r.body["data"] = array_of(std::move(page));
                               return r;
                             }},
                       200, page_schema(enrolment_schema())),
             read);
  router.add(answering(Route{"POST", "/v1/cadences/{id}/enrolments", "enrol_in_cadence",
                             "Enrol a contact ({\"contact_id\", \"deal_id\"?}): the first step falls due after its "
                             "delay, in the owner's working hours. A contact already in the cadence keeps her enrolment.",
                             AuthMode::bearer, "", "cadences", {},
                             [=](ApiRequest& req) {
                               services::RecordService(deps).get(req.ctx, "cadence", req.params.at("id"));  // 404 first
                               Json body = req.json_object();
                               for (const auto& [key, _] : body.items())
                                 if (key != "contact_id" && key != "deal_id")
                                   throw Error(ErrorCode::validation, key + " is not part of an enrolment", {{key, "is not taken"}});
                               if (!body.value("contact_id", Json()).is_string())
                                 throw Error(ErrorCode::validation, "contact_id is required", {{"contact_id", "is required"}});
                               if (body.contains("deal_id") && !body["deal_id"].is_string())
                                 throw Error(ErrorCode::validation, "deal_id must be a deal id", {{"deal_id", "must be a deal id"}});
                               ApiResponse r;
                               r.status = 201;
                               r.body = automation::enrol_contact(deps, req.ctx, req.params.at("id"), body["contact_id"],
                                                                  body.value("deal_id", ""));
                               return r;
                             },
                             Json{{"type", "object"},
                                  {"required", {"contact_id"}},
                                  {"properties", {{"contact_id", {{"type", "string"}}}, {"deal_id", {{"type", "string"}}}}},
                                  {"additionalProperties", false}}},
                       201, enrolment_schema()),
             change);
  router.add(answering(Route{"POST", "/v1/cadences/{id}/enrolments/{enrolment_id}/stop", "stop_cadence_enrolment",
                             "Stop an enrolment: no more steps (X-Reason, else \"stopped by <caller>\", is kept as why)",
                             AuthMode::bearer, "", "cadences", {},
                             [=](ApiRequest& req) {
                               services::RecordService(deps).get(req.ctx, "cadence", req.params.at("id"));
                               services::CadenceEnrolmentService enrolments(deps);
                               Json e = enrolments.get(req.ctx, req.params.at("enrolment_id"));
                               if (e["cadence_id"] != req.params.at("id"))
                                 throw Error(ErrorCode::not_found, "cadence enrolment " + req.params.at("enrolment_id") + " not found");
                               enrolments.stop(req.ctx, "id", e["id"],
                                               req.ctx.reason.empty() ? "stopped by " + req.ctx.actor.id : req.ctx.reason,
                                               req.params.at("id"));
                               ApiResponse r;
                               r.body = enrolments.get(req.ctx, e["id"]);
                               return r;
                             }},
                       200, enrolment_schema()),
             change);
}

}  // namespace

void add_automation_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  add_cadence_routes(router, deps, settings);
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
