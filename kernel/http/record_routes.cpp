// The generic protocol every served entity gets (docs/api.md): list, search, batch,
// create, read, patch, archive and restore; and the two entity actions (a deal's stage,
// a task's completion). Handlers only call services.
#include <algorithm>

#include "kernel/domain/json_text.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/problem.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"

namespace nucleo::http {
namespace {

using services::RecordService;
using services::WriteResult;

// Query-string filters: each entity's references, enumerations, booleans and a few
// identifying fields can be filtered by equality.
std::vector<std::string> filterable_fields(const EntitySpec& spec) {
  std::vector<std::string> out;
  for (const auto& f : spec.fields) {
    if (f.hidden) continue;
    if (f.type == FieldType::reference || f.type == FieldType::enumeration || f.type == FieldType::boolean ||
        f.type == FieldType::email || f.type == FieldType::phone || f.type == FieldType::tax_id || f.identifying)
      out.push_back(f.name);
  }
  return out;
}

Json filter_value(const FieldSpec& f, const std::string& text, const NormalisationSettings& normalisation) {
  if (f.type == FieldType::boolean) {
    if (text != "true" && text != "false") throw BadRequest("query parameter " + f.name + " must be true or false");
    return text == "true";
  }
  if (f.type == FieldType::email) return normalise_email(text).value_or(text);
  if (f.type == FieldType::phone) return normalise_phone(text, normalisation.default_region).value_or(text);
  if (f.type == FieldType::tax_id) {
    std::string upper;
    for (char c : text)
      if (std::isalnum(static_cast<unsigned char>(c))) upper.push_back(static_cast<char>(std::toupper(c)));
    return upper;
  }
  return text;
}

// A page body, {"data": [...], "next_cursor": ...}, from records already rendered to
// JSON text (keys in the order nlohmann would write them).
std::string page_text(const std::vector<std::string>& records, const std::optional<std::string>& next_cursor) {
  std::size_t size = 64;
  for (const auto& r : records) size += r.size() + 1;
  std::string out;
  out.reserve(size);
  out += "{\"data\":[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += records[i];
  }
  out += "],\"next_cursor\":";
  if (next_cursor) {
    append_json_string(out, *next_cursor);
  } else {
    out += "null";
  }
  out.push_back('}');
  return out;
}

ApiResponse list_records(ApiRequest& req, services::ServiceDependencies deps, const ApiSettings& settings,
                         const std::string& collection, const EntitySpec& spec) {
  store::RecordQuery query;
  query.limit = page_size(req, settings) + 1;  // one more tells whether a next page exists
  for (const auto& [name, value] : req.query) {
    if (name == "limit") continue;
    if (name == "cursor") {
      query.after_id = decode_cursor(collection, value, settings.cursor_secret);
    } else if (name == "updated_since") {
      auto t = parse_rfc3339(value);
      if (!t) throw BadRequest("updated_since must be an RFC 3339 date-time");
      query.updated_since = t->micros;
    } else if (name == "stalled" && spec.type == "deal") {
      if (value != "true" && value != "false") throw BadRequest("query parameter stalled must be true or false");
      query.present.emplace_back("stalled_since", value == "true");
    } else if (const FieldSpec* f = spec.field(name)) {
      query.equals.emplace_back(name, filter_value(*f, value, deps.normalisation));
    }
  }
  auto rows = RecordService(deps).list_rendered(req.ctx, spec.type, query);
  bool more = rows.size() == query.limit;
  if (more) rows.pop_back();
  std::optional<std::string> next;
  if (more) next = encode_cursor(collection, rows.back().id, settings.cursor_secret);
  std::vector<std::string> records;
  records.reserve(rows.size());
  for (auto& row : rows) records.push_back(std::move(row.json));
  ApiResponse r;
  r.raw_body = page_text(records, next);
  return r;
}

ApiResponse search_records(ApiRequest& req, services::ServiceDependencies deps, const ApiSettings& settings,
                           const std::string& collection, const EntitySpec& spec) {
  Json body = req.json();
  // A cursor belongs to one collection and one sort order.
  std::string cursor_scope = collection + "/search/" + (body.is_object() ? body.value("sort", Json()).dump() : "");
  Json after;
  if (body.is_object() && body.contains("cursor")) {
    if (!body["cursor"].is_string()) throw BadRequest("cursor must be a string");
    after = Json::parse(decode_cursor(cursor_scope, body["cursor"], settings.cursor_secret), nullptr, false);
  }
  auto page = RecordService(deps).search(req.ctx, spec.type, body, after, settings.max_page_size);
  std::optional<std::string> next;
  if (!page.next.is_null()) next = encode_cursor(cursor_scope, page.next.dump(), settings.cursor_secret);
  ApiResponse r;
  r.raw_body = page_text(page.records, next);
  return r;
}

// POST /v1/{resource}/batch {"operations": [...], "atomic": false} → per-item results.
ApiResponse batch_records(ApiRequest& req, services::ServiceDependencies deps, const EntitySpec& spec) {
  Json body = req.json_object();
  for (const auto& [key, _] : body.items())
    if (key != "operations" && key != "atomic")
      throw Error(ErrorCode::validation, key + " is not part of a batch", {{key, "is not part of a batch"}});
  const Json& atomic = body.value("atomic", Json(false));
  if (!atomic.is_boolean())
    throw Error(ErrorCode::validation, "atomic must be true or false", {{"atomic", "must be a boolean"}});
  auto items = RecordService(deps).batch(req.ctx, spec.type, body.value("operations", Json()), atomic.get<bool>());
  Json results = Json::array();
  for (const auto& item : items) {
    if (item.result) {
      Json data = item.result->record;
      if (!item.result->duplicates.empty()) data["duplicates"] = item.result->duplicates;
      results.push_back({{"status", item.outcome == RecordService::BatchOutcome::created ? 201 : 200}, {"data", data}});
      continue;
    }
    Problem p = problem_of(*item.error);
    if (item.outcome == RecordService::BatchOutcome::not_applied) p.status = 424;
    results.push_back({{"status", p.status}, {"problem", problem_json(p, req.request_id)}});
  }
  ApiResponse r;
  r.body = {{"results", results}};
  return r;
}

void add_entity_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                       const std::string& collection, const EntitySpec& spec) {
  const std::string base = "/v1/" + (spec.policy.path.empty() ? collection : spec.policy.path);
  const std::string item = base + "/{id}";
  const std::string type = spec.type;
  std::vector<std::string> list_parameters{"limit", "cursor", "updated_since"};
  for (const auto& f : filterable_fields(spec)) list_parameters.push_back(f);
  if (spec.type == "deal") list_parameters.push_back("stalled");  // docs/sales-process.md, stalled deals
  const Access read = access_to_read(spec), change = access_to_change(spec);

  router.add({"GET", base, "list_" + collection, "List " + collection + " (keyset pages)", AuthMode::bearer, type,
              "list", list_parameters,
              [=](ApiRequest& req) { return list_records(req, deps, settings, collection, spec); }}, read);
  router.add(answering(Route{"POST", base, "create_" + type, "Create a " + type, AuthMode::bearer, type, "create", {},
                             [=](ApiRequest& req) {
                               auto result = RecordService(deps).create(req.ctx, type, req.json());
                               ApiResponse r = write_response(result, 201);
                               r.headers["Location"] = base + "/" + result.record["id"].get<std::string>();
                               return r;
                             }},
                       201),
             change);
  router.add({"POST",
              base + "/search",
              "search_" + collection,
              "Search " + collection + ": filter_groups (OR of AND-ed filters), sort, limit, cursor",
              AuthMode::bearer,
              type,
              "search",
              {},
              [=](ApiRequest& req) { return search_records(req, deps, settings, collection, spec); }}, read);
  router.add({"POST",
              base + "/batch",
              "batch_" + collection,
              "Create or update up to 100 " + collection + " with per-item results (atomic: all or nothing)",
              AuthMode::bearer,
              type,
              "batch",
              {},
              [=](ApiRequest& req) { return batch_records(req, deps, spec); }}, change);
  router.add({"GET", item, "get_" + type, "Read a " + type, AuthMode::bearer, type, "read", {}, [=](ApiRequest& req) {
                return record_response(RecordService(deps).get(req.ctx, type, req.params.at("id")));
              }}, read);
  router.add({"PATCH",
              item,
              "update_" + type,
              "Change fields of a " + type + " (If-Match: version)",
              AuthMode::bearer,
              type,
              "update",
              {},
              [=](ApiRequest& req) {
                Json patch = req.json();
                return write_response(
                    RecordService(deps).update(req.ctx, type, req.params.at("id"), patch, expected_version(req)));
              }}, change);
  router.add({"DELETE",
              item,
              "archive_" + type,
              "Archive a " + type + " (restorable)",
              AuthMode::bearer,
              type,
              "archive",
              type == "user" ? std::vector<std::string>{"confirm_self"} : std::vector<std::string>{},
              [=](ApiRequest& req) {
                req.ctx.confirm_own_archive = flag_parameter(req, "confirm_self");
                return write_response(
                    RecordService(deps).archive(req.ctx, type, req.params.at("id"), expected_version(req)));
              }}, change);
  router.add({"POST",
              item + "/restore",
              "restore_" + type,
              "Restore an archived " + type,
              AuthMode::bearer,
              type,
              "restore",
              {},
              [=](ApiRequest& req) {
                return write_response(
                    RecordService(deps).restore(req.ctx, type, req.params.at("id"), expected_version(req)));
              }}, change);
}

// POST /v1/deals/{id}/stage {"stage_id": "stg_…", "lost_reason": "…", "override": true, "reason": "…"}
ApiResponse move_stage(ApiRequest& req, services::ServiceDependencies deps) {
  Json body = req.json_object();
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items()) {
    if (key != "stage_id" && key != "lost_reason" && key != "override" && key != "reason")
      errors.push_back({key, "is not a field of a stage move"});
    else if (key == "override" ? !value.is_boolean() : !value.is_string())
      errors.push_back({key, key == "override" ? "must be true or false" : "must be a string"});
  }
  if (!body.contains("stage_id")) errors.push_back({"stage_id", "is required"});
  if (body.value("reason", Json("")).is_string() && body.value("reason", "").size() > 1000)
    errors.push_back({"reason", "is longer than 1000 characters"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid stage move", errors);
  // An override of unmet stage gates (docs/sales-process.md): the reason may come in the
  // body as well as in X-Reason; the audit trail records it with the move.
  services::CallContext ctx = req.ctx;
  ctx.override_gates = body.value("override", false);
  if (body.contains("reason")) ctx.reason = body["reason"].get<std::string>();
  return write_response(RecordService(deps).move_deal_stage(ctx, req.params.at("id"), body["stage_id"],
                                                            expected_version(req), body.value("lost_reason", "")));
}

// POST /v1/deals/{id}/approvals {"stage_id": "stg_…", "note": "…"}
ApiResponse approve_move(ApiRequest& req, services::ServiceDependencies deps) {
  Json body = req.json_object();
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items())
    if (key != "stage_id" && key != "note") errors.push_back({key, "is not a field of an approval"});
    else if (!value.is_string()) errors.push_back({key, "must be a string"});
  if (!body.contains("stage_id")) errors.push_back({"stage_id", "is required"});
  if (!errors.empty()) {
    RecordService(deps).get(req.ctx, "deal", req.params.at("id"));  // a deal the caller cannot see: 404 first
    throw Error(ErrorCode::validation, "invalid approval", errors);
  }
  return write_response(RecordService(deps).approve_deal_move(req.ctx, req.params.at("id"), body["stage_id"],
                                                              body.value("note", ""), expected_version(req)));
}

Json gate_schema() {
  Json text = {{"type", "string"}};
  Json unmet = {{"type", "object"},
                {"required", {"code", "criterion_index", "criterion", "missing"}},
                {"properties",
                 {{"code", {{"type", "string"}, {"enum", {"field_missing", "field_mismatch", "interactions_missing", "committee_incomplete",
                                                   "checklist_incomplete", "approval_missing"}}}},
                  {"criterion_index", {{"type", "integer"}, {"minimum", 0}}},
                  {"criterion", {{"type", "object"}}},
                  {"missing", text}}},
                {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"deal_id", "stage_id", "passes", "unmet"}},
          {"properties",
           {{"deal_id", text}, {"stage_id", text}, {"passes", {{"type", "boolean"}}},
            {"unmet", {{"type", "array"}, {"items", unmet}}}}},
          {"additionalProperties", false}};
}

}  // namespace

// Every entity declared as served, at /v1/<its table> (EntityPolicy::served).
const std::vector<std::pair<std::string, std::string>>& exposed_resources() {
  static const std::vector<std::pair<std::string, std::string>> resources = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const EntitySpec* spec : all_entity_specs())
      if (spec->policy.served) out.emplace_back(spec->table, spec->type);
    return out;
  }();
  return resources;
}

void add_record_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  for (const auto& [collection, type] : exposed_resources())
    add_entity_routes(router, deps, settings, collection, entity_spec(type));
  router.add({"POST",
              "/v1/deals/{id}/stage",
              "move_deal_stage",
              "Move a deal to another stage of its pipeline",
              AuthMode::bearer,
              "deal",
              "action",
              {},
              [=](ApiRequest& req) { return move_stage(req, deps); },
              {{"type", "object"},
               {"required", {"stage_id"}},
               {"properties",
                {{"stage_id", {{"type", "string"}, {"pattern", "^stg_[0-9a-z]{26}$"}}},
                 {"lost_reason", {{"type", "string"}}},
                 {"override", {{"type", "boolean"},
                               {"description", "move past unmet entry criteria (admin, manager; needs a reason)"}}},
                 {"reason", {{"type", "string"}, {"maxLength", 1000}, {"description", "why, as X-Reason"}}}}},
               {"additionalProperties", false}}}, access_to_change(entity_spec("deal")));
  router.add(answering({"GET", "/v1/deals/{id}/gate", "evaluate_deal_gate",
                        "What a move to stage_id would meet and miss of the stage's entry criteria, without moving "
                        "(the same evaluation the move enforces)",
                        AuthMode::bearer, "deal", "gate", {"stage_id"},
                        [=](ApiRequest& req) {
                          auto stage = req.query.find("stage_id");
                          if (stage == req.query.end() || stage->second.empty()) {
                            RecordService(deps).get(req.ctx, "deal", req.params.at("id"));  // 404 comes first
                            throw BadRequest("stage_id is required", {{"stage_id", "is required"}});
                          }
                          ApiResponse r;
                          r.body = RecordService(deps).deal_gate(req.ctx, req.params.at("id"), stage->second);
                          return r;
                        }},
                       200, gate_schema()),
             access_to_read(entity_spec("deal")));
  router.add({"POST",
              "/v1/deals/{id}/approvals",
              "approve_deal_move",
              "Approve moving a deal to a stage whose gate asks a second person's approval (maker-checker)",
              AuthMode::bearer,
              "deal",
              "action",
              {},
              [=](ApiRequest& req) { return approve_move(req, deps); },
              {{"type", "object"},
               {"required", {"stage_id"}},
               {"properties",
                {{"stage_id", {{"type", "string"}, {"pattern", "^stg_[0-9a-z]{26}$"}}},
                 {"note", {{"type", "string"}, {"maxLength", 1000}}}}},
               {"additionalProperties", false}}}, access_to_change(entity_spec("deal")));
  router.add({"POST",
              "/v1/tasks/{id}/complete",
              "complete_task",
              "Mark a task done",
              AuthMode::bearer,
              "task",
              "action",
              {},
              [=](ApiRequest& req) {
                return write_response(
                    services::RecordService(deps).complete_task(req.ctx, req.params.at("id"), expected_version(req)));
              }}, access_to_change(entity_spec("task")));
}

}  // namespace nucleo::http
