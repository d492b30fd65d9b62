#include "kernel/http/resources.hpp"

#include <Poco/Net/HTTPResponse.h>

#include <algorithm>

#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/problem.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/event_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/customer_view.hpp"

namespace nucleo::http {
namespace {

// The permission matrix (access_policy.hpp) for records of one entity type.
Access access_to_read(const EntitySpec& spec) {
  return Access::of_roles(services::roles_allowed(spec, services::Operation::read), spec.table + ":read");
}
Access access_to_change(const EntitySpec& spec) {
  return Access::of_roles(services::roles_allowed(spec, services::Operation::write), spec.table + ":write");
}

using services::RecordService;
using services::WriteResult;

ApiResponse write_response(const WriteResult& result, int status = 200) {
  ApiResponse r = record_response(result.record, status);
  if (!result.duplicates.empty()) r.body["duplicates"] = result.duplicates;
  return r;
}

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
  Json body = req.json();
  if (!body.is_object())
    throw Error(ErrorCode::validation, "the body must be a JSON object", {{"", "must be an object"}});
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
  const std::string base = "/v1/" + collection;
  const std::string item = base + "/{id}";
  const std::string type = spec.type;
  std::vector<std::string> list_parameters{"limit", "cursor", "updated_since"};
  for (const auto& f : filterable_fields(spec)) list_parameters.push_back(f);
  const Access read = access_to_read(spec), change = access_to_change(spec);

  router.add({"GET", base, "list_" + collection, "List " + collection + " (keyset pages)", AuthMode::bearer, type,
              "list", list_parameters,
              [=](ApiRequest& req) { return list_records(req, deps, settings, collection, spec); }}, read);
  router.add(
      {"POST", base, "create_" + type, "Create a " + type, AuthMode::bearer, type, "create", {}, [=](ApiRequest& req) {
         auto result = RecordService(deps).create(req.ctx, type, req.json());
         ApiResponse r = write_response(result, 201);
         r.headers["Location"] = base + "/" + result.record["id"].get<std::string>();
         return r;
       }}, change);
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
              {},
              [=](ApiRequest& req) {
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

// POST /v1/deals/{id}/stage {"stage_id": "stg_…", "lost_reason": "…"}
ApiResponse move_stage(ApiRequest& req, services::ServiceDependencies deps) {
  Json body = req.json();
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body.items()) {
    if (key != "stage_id" && key != "lost_reason")
      errors.push_back({key, "is not a field of a stage move"});
    else if (!value.is_string())
      errors.push_back({key, "must be a string"});
  }
  if (!body.contains("stage_id")) errors.push_back({"stage_id", "is required"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid stage move", errors);
  return write_response(RecordService(deps).move_deal_stage(req.ctx, req.params.at("id"), body["stage_id"],
                                                            expected_version(req), body.value("lost_reason", "")));
}

void add_customer_view_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add({"GET",
              "/v1/accounts/{id}/timeline",
              "account_timeline",
              "Interactions, stage changes and tasks of an account, newest first",
              AuthMode::bearer,
              "account",
              "timeline",
              {"limit", "cursor"},
              [=](ApiRequest& req) {
                std::string id = req.params.at("id");
                std::string scope = "timeline/" + id;
                Json after;
                if (req.query.count("cursor"))
                  after =
                      Json::parse(decode_cursor(scope, req.query.at("cursor"), settings.cursor_secret), nullptr, false);
                auto page = services::CustomerView(deps).timeline(req.ctx, id, after, page_size(req, settings));
                ApiResponse r;
                r.body = {{"data", page.items},
                          {"next_cursor", page.next.is_null()
                                              ? Json()
                                              : Json(encode_cursor(scope, page.next.dump(), settings.cursor_secret))}};
                return r;
              }}, access_to_read(entity_spec("account")));
  router.add({"GET",
              "/v1/accounts/{id}/briefing",
              "account_briefing",
              "Before a visit: open deals, last contact per channel, tasks, key contacts, risk flags",
              AuthMode::bearer,
              "account",
              "briefing",
              {"quiet_days"},
              [=](ApiRequest& req) {
                int quiet_days = static_cast<int>(integer_parameter(req, "quiet_days", 1, 3650).value_or(30));
                ApiResponse r;
                r.body = services::CustomerView(deps).briefing(req.ctx, req.params.at("id"), quiet_days);
                return r;
              }}, access_to_read(entity_spec("account")));
}


// A required non-negative integer query parameter (400 when absent or malformed).
std::uint64_t count_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) throw BadRequest("query parameter '" + name + "' is required");
  const std::string& v = it->second;
  bool digits = !v.empty() && v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw BadRequest("query parameter '" + name + "' must be a non-negative integer");
  return std::stoull(v);
}

std::optional<std::int64_t> time_parameter(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::nullopt;
  auto t = parse_rfc3339(it->second);
  if (!t) throw BadRequest("query parameter '" + name + "' must be an RFC 3339 date-time");
  return t->micros;
}

// The string fields of a small action body: each required, nothing else accepted.
std::map<std::string, std::string> string_fields(const ApiRequest& req, const std::vector<std::string>& names,
                                                 const std::string& what) {
  Json body = req.json();
  std::vector<FieldError> errors;
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : body.items()) {
    if (std::find(names.begin(), names.end(), key) == names.end())
      errors.push_back({key, "is not a field of " + what});
    else if (!value.is_string())
      errors.push_back({key, "must be a string"});
    else
      out[key] = value.get<std::string>();
  }
  for (const auto& name : names)
    if (!body.contains(name)) errors.push_back({name, "is required"});
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid " + what, errors);
  return out;
}

Json string_fields_schema(const std::vector<std::string>& names) {
  Json properties = Json::object();
  for (const auto& name : names) properties[name] = {{"type", "string"}};
  return {{"type", "object"}, {"required", names}, {"properties", properties}, {"additionalProperties", false}};
}

void add_privacy_routes(Router& router, services::ServiceDependencies deps) {
  router.add({"POST", "/v1/privacy/erasures", "erase_data_subject",
              "Erase a contact's personal data (LGPD art. 18, GDPR art. 17; admin). Refused with 409 while a legal "
              "hold is active. The audit log stays provable.",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                auto f = string_fields(req, {"contact_id", "reason"}, "an erasure");
                ApiResponse r;
                r.status = 201;
                r.body = services::PrivacyService(deps).erase_contact(req.ctx, f["contact_id"], f["reason"]).to_json();
                return r;
              },
              string_fields_schema({"contact_id", "reason"})}, Access::of_roles({"admin"}, "privacy:write"));
  router.add({"POST", "/v1/privacy/holds", "place_legal_hold",
              "Place a legal hold on a contact's data: erasure is refused until it is lifted (admin)", AuthMode::bearer,
              "", "privacy", {},
              [=](ApiRequest& req) {
                auto f = string_fields(req, {"contact_id", "reason"}, "a legal hold");
                ApiResponse r;
                r.status = 201;
                r.body = services::PrivacyService(deps).place_hold(req.ctx, f["contact_id"], f["reason"]);
                return r;
              },
              string_fields_schema({"contact_id", "reason"})}, Access::of_roles({"admin"}, "privacy:write"));
  router.add({"GET", "/v1/privacy/holds", "list_legal_holds", "Legal holds, newest first (admin and auditor)",
              AuthMode::bearer, "", "audit", {"subject_id"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::PrivacyService(deps).holds(
                    req.ctx, req.query.count("subject_id") ? req.query.at("subject_id") : ""));
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add({"POST", "/v1/privacy/holds/{id}/lift", "lift_legal_hold", "Lift a legal hold, with a reason (admin)",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                auto f = string_fields(req, {"reason"}, "a hold lift");
                ApiResponse r;
                r.body = services::PrivacyService(deps).lift_hold(req.ctx, req.params.at("id"), f["reason"]);
                return r;
              },
              string_fields_schema({"reason"})}, Access::of_roles({"admin"}, "privacy:write"));
}

void add_event_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add({"GET", "/v1/events/dead", "list_dead_letters",
              "Event deliveries that failed events.max_attempts times, newest first (admin)", AuthMode::bearer, "",
              "audit", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::EventService(deps).dead_letters(req.ctx, page_size(req, settings)));
                return r;
              }}, Access::of_roles({"admin"}, "events:write"));
  router.add({"POST", "/v1/events/dead/{id}/replay", "replay_dead_letter",
              "Deliver a dead-lettered event again, to one subscriber (?subscriber=) or to each that gave up (admin)",
              AuthMode::bearer, "", "audit", {"subscriber"}, [=](ApiRequest& req) {
                auto subscriber = req.query.count("subscriber") ? req.query.at("subscriber") : "";
                ApiResponse r;
                r.body = {{"event_id", req.params.at("id")},
                          {"replayed", services::EventService(deps).replay(req.ctx, req.params.at("id"), subscriber)}};
                return r;
              }}, Access::of_roles({"admin"}, "events:write"));
}

ApiResponse export_log(ApiRequest& req, services::ServiceDependencies deps) {
  std::string name = req.query.count("format") ? req.query.at("format") : "jsonl";
  auto format = audit::parse_export_format(name);
  if (!format) throw BadRequest("query parameter 'format' must be jsonl, csv or ocsf, not '" + name + "'");
  services::AuditQuery q;
  q.from = time_parameter(req, "from");
  q.to = time_parameter(req, "to");
  Json what{{"format", name}, {"via", "http"}};
  if (q.from) what["from"] = req.query.at("from");
  if (q.to) what["to"] = req.query.at("to");
  services::AuditService(deps).record_export(req.ctx, what);  // also refuses other roles, before streaming

  ApiResponse r;
  r.content_type = audit::media_type(*format);
  r.headers["Content-Disposition"] =
      "attachment; filename=\"audit-" + req.ctx.tenant_id + (name == "csv" ? ".csv\"" : ".jsonl\"");
  r.stream = [deps, ctx = req.ctx, q, format = *format](const BodyWriter& write) {
    constexpr std::size_t flush_at = 64 * 1024;
    std::string buffer = audit::export_header(format);
    bool open = true;
    services::AuditService(deps).for_each_event(ctx, q, [&](const audit::LoggedEvent& e) {
      audit::append_exported(buffer, format, e);
      if (buffer.size() < flush_at) return true;
      open = write(buffer);
      buffer.clear();
      return open;
    });
    if (open && !buffer.empty()) write(buffer);
  };
  return r;
}

void add_audit_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add({"GET", "/v1/audit/events", "list_audit_events",
              "Sequenced audit events, oldest first (auditor and admin; the read is audited)", AuthMode::bearer, "",
              "audit", {"actor", "entity_type", "entity_id", "action", "from", "to", "limit", "cursor"},
              [=](ApiRequest& req) {
                services::AuditQuery q;
                auto text = [&](const char* name) { return req.query.count(name) ? req.query.at(name) : ""; };
                q.actor_id = text("actor");
                q.entity_type = text("entity_type");
                q.entity_id = text("entity_id");
                q.action = text("action");
                q.from = time_parameter(req, "from");
                q.to = time_parameter(req, "to");
                q.limit = page_size(req, settings);
                if (req.query.count("cursor"))
                  q.after_seq = std::stoll(decode_cursor("audit/events", req.query.at("cursor"), settings.cursor_secret));
                auto page = services::AuditService(deps).events(req.ctx, q);
                ApiResponse r;
                r.body["next_cursor"] =
                    page.last_seq ? Json(encode_cursor("audit/events", std::to_string(*page.last_seq), settings.cursor_secret))
                                  : Json();
                r.body["data"] = array_of(std::move(page.events));
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add({"GET", "/v1/audit/entities/{type}/{id}/history", "audit_entity_history",
              "Every audited version of one record, with field changes and proof links; as_of rebuilds the record "
              "as it was at that instant (auditor and admin; the read is audited)",
              AuthMode::bearer, "", "audit", {"as_of"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::AuditService(deps).history(req.ctx, req.params.at("type"), req.params.at("id"),
                                                              time_parameter(req, "as_of"));
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add({"GET", "/v1/audit/export", "export_audit_log",
              "The log's events between from and to, streamed as jsonl (canonical leaves), csv or ocsf (OCSF 1.1.0 "
              "API Activity); personal values appear as commitments (auditor and admin; the export is audited)",
              AuthMode::bearer, "", "export", {"from", "to", "format"}, [=](ApiRequest& req) {
                return export_log(req, deps);
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add({"GET", "/v1/audit/checkpoint", "audit_checkpoint",
              "The latest signed checkpoint (C2SP signed note, text/plain)", AuthMode::bearer, "", "audit", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.raw_body = services::AuditService(deps).checkpoint(req.ctx);
                r.content_type = "text/plain; charset=utf-8";
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add({"GET", "/v1/audit/proof/inclusion", "audit_inclusion_proof",
              "RFC 9162 inclusion proof of event seq in the tree of tree_size events", AuthMode::bearer, "", "audit",
              {"seq", "tree_size"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = audit::to_json(services::AuditService(deps).inclusion(
                    req.ctx, count_parameter(req, "seq"), count_parameter(req, "tree_size")));
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add({"GET", "/v1/audit/proof/consistency", "audit_consistency_proof",
              "RFC 9162 consistency proof between the trees of first and second events", AuthMode::bearer, "",
              "audit", {"first", "second"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = audit::to_json(services::AuditService(deps).consistency(
                    req.ctx, count_parameter(req, "first"), count_parameter(req, "second")));
                return r;
              }}, Access::of_roles({"admin", "auditor"}, "audit:read"));
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

void add_resource_routes(Router& router, services::ServiceDependencies deps, ApiSettings settings) {
  for (const auto& [collection, type] : exposed_resources())
    add_entity_routes(router, deps, settings, collection, entity_spec(type));
  add_customer_view_routes(router, deps, settings);
  add_audit_routes(router, deps, settings);
  add_privacy_routes(router, deps);
  add_event_routes(router, deps, settings);
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
               {"properties", {{"stage_id", {{"type", "string"}}}, {"lost_reason", {{"type", "string"}}}}}}}, access_to_change(entity_spec("deal")));
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
