// The sales process's own routes (docs/sales-process.md): a user's agenda and a
// pipeline's definition. The gate dry run, the stage move and approvals sit with the
// deal's routes (record_routes).
#include "kernel/automation/pipeline_definition.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/services/proposal_service.hpp"
#include "kernel/services/sales_process_service.hpp"

namespace nucleo::http {
namespace {

constexpr std::int64_t micros_per_day = 86'400'000'000;

Json agenda_schema() {
  Json text = {{"type", "string"}};
  Json nullable_text = {{"type", {"string", "null"}}};
  Json time = {{"type", "string"}, {"format", "date-time"}};
  Json task = {{"type", "object"},
               {"required", {"id", "title", "kind", "due_at", "required_for_exit", "origin_rule", "contact_id", "version"}},
               {"properties",
                {{"id", text}, {"title", text}, {"kind", text}, {"due_at", time},
                 {"required_for_exit", {{"type", "boolean"}}}, {"origin_rule", nullable_text},
                 {"contact_id", nullable_text}, {"version", {{"type", "integer"}}}}},
               {"additionalProperties", false}};
  Json deal = {{"type", {"object", "null"}},
               {"properties",
                {{"id", text}, {"name", text}, {"stage_id", text}, {"stage_name", text},
                 {"amount", {{"type", {"integer", "null"}}}}, {"currency", text}}}};
  Json account = {{"type", {"object", "null"}}, {"properties", {{"id", text}, {"legal_name", text}}}};
  Json item = {{"type", "object"},
               {"required", {"task", "due_local", "overdue", "deal", "account"}},
               {"properties",
                {{"task", task}, {"due_local", {{"type", "string"}, {"description", "due_at on the user's wall clock, "
                                                                                   "with its offset"}}},
                 {"overdue", {{"type", "boolean"}}}, {"deal", deal}, {"account", account}}},
               {"additionalProperties", false}};
  Json approval = {{"type", "object"},
                   {"required", {"deal", "stage", "since"}},
                   {"properties",
                    {{"deal", deal},
                     {"stage", {{"type", "object"}, {"properties", {{"id", text}, {"name", text}}}}},
                     {"since", {{"type", {"string", "null"}}, {"description", "when the deal entered its stage"}}}}},
                   {"additionalProperties", false}};
  Json proposal_approval = {{"type", "object"},
                            {"required", {"proposal_id", "title", "deal_id", "owner_id", "revision", "discount_percent"}},
                            {"properties",
                             {{"proposal_id", text}, {"title", text}, {"deal_id", text}, {"owner_id", nullable_text},
                              {"revision", {{"type", "integer"}}}, {"discount_percent", {{"type", "number"}}}}},
                            {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"user_id", "time_zone", "now", "now_local", "from", "to", "items", "truncated", "approvals",
                        "proposal_approvals"}},
          {"properties",
           {{"user_id", text}, {"time_zone", text}, {"now", time}, {"now_local", text}, {"from", time}, {"to", time},
            {"items", {{"type", "array"}, {"items", item}}}, {"truncated", {{"type", "boolean"}}},
            {"approvals", {{"type", "array"}, {"items", approval},
                           {"description", "moves waiting for this user's approval (stage gates' approval criteria)"}}},
            {"proposal_approvals",
             {{"type", "array"},
              {"items", proposal_approval},
              {"description", "proposals whose discount waits for this user's approval (docs/proposals.md)"}}}}},
          {"additionalProperties", false}};
}

// ?from=&to=&limit=: upcoming from `from` (now) to `to` (a week on), at most a year.
services::AgendaQuery agenda_query(const ApiRequest& req, std::string user_id) {
  services::AgendaQuery q;
  q.user_id = std::move(user_id);
  q.from = Timestamp{time_parameter(req, "from").value_or(req.ctx.now().micros)};
  q.to = Timestamp{time_parameter(req, "to").value_or(q.from.micros + 7 * micros_per_day)};
  if (q.to <= q.from) throw BadRequest("to must come after from", {{"to", "is not after from"}});
  if (q.to.micros - q.from.micros > 366 * micros_per_day)
    throw BadRequest("an agenda spans at most 366 days", {{"to", "is more than 366 days after from"}});
  if (auto limit = integer_parameter(req, "limit", 1, 500)) q.limit = static_cast<std::size_t>(*limit);
  return q;
}

// The agenda's tasks, and the moves waiting for the user's approval (maker-checker).
Json agenda_of(services::ServiceDependencies deps, const ApiRequest& req, const std::string& user_id) {
  services::AgendaQuery q = agenda_query(req, user_id);
  Json agenda = services::SalesProcessService(deps).agenda(req.ctx, q);
  agenda["approvals"] = automation::pending_approvals(deps, req.ctx, user_id, q.limit);
  agenda["proposal_approvals"] = services::ProposalService(deps).approvals_waiting_for(req.ctx, user_id, q.limit);
  return agenda;
}

Json applied_schema() {
  Json text = {{"type", "string"}};
  Json change = {{"type", "object"},
                 {"required", {"op", "entity", "id"}},
                 {"properties",
                  {{"op", {{"type", "string"}, {"enum", {"create", "update", "archive"}}}},
                   {"entity", {{"type", "string"}, {"enum", {"pipeline", "stage"}}}},
                   {"key", {{"type", {"string", "null"}}}}, {"id", text},
                   {"fields", {{"type", "object"}, {"description", "field → {from, to}"}}},
                   {"deals_moved", {{"type", "integer"}}}}}};
  Json pipeline = {{"type", "object"},
                   {"properties", {{"key", {{"type", {"string", "null"}}}}, {"id", text}, {"created", {{"type", "boolean"}}}}}};
  return {{"type", "object"},
          {"required", {"dry_run", "changed", "pipelines", "changes"}},
          {"properties",
           {{"dry_run", {{"type", "boolean"}}}, {"changed", {{"type", "boolean"}}},
            {"pipelines", {{"type", "array"}, {"items", pipeline}}}, {"changes", {{"type", "array"}, {"items", change}}}}},
          {"additionalProperties", false}};
}

// What PUT takes: at least one stage, at most 50, a bounded name. What GET answers is the
// pipeline as it is — stages, key and name as POST /v1/stages and /v1/pipelines made
// them (none yet, more than PUT takes) — so its schema promises the shape, not PUT's bounds.
Json definition_schema(bool answered) {
  Json stages = {{"type", "array"}, {"items", {{"type", "object"}}}};
  Json name = {{"type", "string"}};
  Json key = {{"type", "string"}};
  if (!answered) {
    key["pattern"] = "^[a-z0-9_]{1,64}$";
    stages["minItems"] = 1;
    stages["maxItems"] = 50;
    name["maxLength"] = 200;
  }
  return {{"type", "object"},
          {"required", {"name", "stages"}},
          {"properties",
           {{"key", key},
            {"name", name},
            {"stages", stages},
            {"move_deals", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}},
          {"additionalProperties", false}};
}

Json board_schema() {
  Json text = {{"type", "string"}};
  Json amount = {{"type", "object"},
                 {"required", {"currency", "amount"}},
                 {"properties", {{"currency", text}, {"amount", {{"type", "integer"}, {"description", "in cents"}}}}},
                 {"additionalProperties", false}};
  Json column = {{"type", "object"},
                 {"required", {"id", "name", "position", "kind", "probability", "gated", "open_deals", "amounts"}},
                 {"properties",
                  {{"id", text}, {"name", text}, {"position", {{"type", "integer"}}},
                   {"kind", {{"type", "string"}, {"enum", {"open", "won", "lost"}}}},
                   {"probability", {{"type", "integer"}}},
                   {"gated", {{"type", "boolean"}, {"description", "the stage has entry criteria"}}},
                   {"open_deals", {{"type", "integer"}}},
                   {"amounts", {{"type", "array"}, {"items", amount}}}}},
                 {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"pipeline", "stages", "unstaged_open_deals"}},
          {"properties",
           {{"pipeline", {{"type", "object"},
                          {"required", {"id", "name"}},
                          {"properties", {{"id", text}, {"name", text}}},
                          {"additionalProperties", false}}},
            {"stages", {{"type", "array"}, {"items", column}}},
            {"unstaged_open_deals", {{"type", "integer"}}}}},
          {"additionalProperties", false}};
}

ApiResponse json_response(Json body) {
  ApiResponse r;
  r.body = std::move(body);
  return r;
}

}  // namespace

void add_sales_routes(Router& router, services::ServiceDependencies deps) {
  const std::vector<std::string> params{"from", "to", "limit"};
  router.add(answering({"GET", "/v1/me/agenda", "get_my_agenda",
                        "The caller's open tasks, overdue and due from..to, by due time with deal and account",
                        AuthMode::bearer, "", "agenda", params,
                        [=](ApiRequest& req) {
                          const services::Principal* who = req.ctx.principal.get();
                          if (!who || who->user_id.empty())
                            throw Error(ErrorCode::validation,
                                        "this key acts as no user: use a user's key, or On-Behalf-Of a user",
                                        {{"Authorization", "acts as no user", "no_user"}});
                          return json_response(agenda_of(deps, req, who->user_id));
                        }},
                       200, agenda_schema()),
             access_to_read(entity_spec("task")));
  router.add(answering({"GET", "/v1/users/{id}/agenda", "get_user_agenda",
                        "A teammate's agenda (admin, manager)", AuthMode::bearer, "user", "agenda", params,
                        [=](ApiRequest& req) {
                          return json_response(agenda_of(deps, req, req.params.at("id")));
                        }},
                       200, agenda_schema()),
             Access::of_roles({"admin", "manager"}, "tasks:read"));
  router.add(answering({"GET", "/v1/pipelines/{id}/definition", "get_pipeline_definition",
                        "The pipeline as a definition (stages, gates, checklists) that PUT takes back",
                        AuthMode::bearer, "pipeline", "definition", {},
                        [=](ApiRequest& req) {
                          return json_response(
                              automation::pipeline_definition_of(deps, req.ctx, req.params.at("id")));
                        }},
                       200, definition_schema(/*answered=*/true)),
             access_to_read(entity_spec("pipeline")));
  router.add(answering({"GET", "/v1/pipelines/{id}/board", "get_pipeline_board",
                        "The pipeline's stages by position with the count and value of the open deals in each "
                        "that the caller may see (a board's column headers; the deals: GET /v1/deals?stage_id=)",
                        AuthMode::bearer, "pipeline", "board", {},
                        [=](ApiRequest& req) {
                          return json_response(services::SalesProcessService(deps).board(req.ctx, req.params.at("id")));
                        }},
                       200, board_schema()),
             access_to_read(entity_spec("deal")));
  Route put{"PUT", "/v1/pipelines/{id}/definition", "apply_pipeline_definition",
            "Make the pipeline match a definition in one audited transaction (?dry_run=true: show, write nothing)",
            AuthMode::bearer, "pipeline", "definition", {"dry_run"},
            [=](ApiRequest& req) {
              auto dry = req.query.find("dry_run");
              if (dry != req.query.end() && dry->second != "true" && dry->second != "false")
                throw BadRequest("dry_run must be true or false");
              return json_response(automation::apply_pipeline_definition(
                  deps, req.ctx, req.params.at("id"), req.json(), dry != req.query.end() && dry->second == "true"));
            },
            definition_schema(/*answered=*/false)};
  router.add(answering(put, 200, applied_schema()), access_to_change(entity_spec("pipeline")));
}

}  // namespace nucleo::http
