// The compliance officer's routes (docs/api.md, "Audit"): the log, entity histories,
// exports, proofs and checkpoints; auditor and admin.
#include <Poco/Net/HTTPResponse.h>

#include "kernel/domain/error.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/audit_service.hpp"

namespace nucleo::http {
namespace {

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

// A page of sequenced audit events: each its canonical leaf and the leaf's hash.
Json audit_events_schema() {
  Json text = {{"type", "string"}};
  Json nullable_text = {{"type", {"string", "null"}}};
  Json leaf = {{"type", "object"},
               {"description", "The canonical leaf the log commits to (docs/architecture.md §5)"},
               {"required", {"v", "seq", "id", "tenant_id", "recorded_at", "actor", "action", "entity"}},
               {"properties",
                {{"v", {{"type", "integer"}}},
                 {"seq", {{"type", "integer"}}},
                 {"id", text},
                 {"tenant_id", text},
                 {"recorded_at", {{"type", "string"}, {"format", "date-time"}}},
                 {"actor",
                  {{"type", "object"},
                   {"required", {"type", "id"}},
                   {"properties", {{"type", text}, {"id", text}, {"on_behalf_of", nullable_text}}}}},
                 {"action", text},
                 {"entity", {{"type", "object"}, {"required", {"type", "id"}}, {"properties", {{"type", text}, {"id", text}}}}},
                 {"changes", {{"type", "object"}, {"additionalProperties", true}}},
                 {"reason", nullable_text},
                 {"request_id", nullable_text},
                 {"source_ip", nullable_text}}},
               {"additionalProperties", true}};
  Json event = {{"type", "object"},
                {"required", {"seq", "leaf_hash", "leaf"}},
                {"properties", {{"seq", {{"type", "integer"}}}, {"leaf_hash", text}, {"leaf", leaf}}},
                {"additionalProperties", false}};
  return page_schema(event);
}

// A record's audited versions, with the record as it was at as_of when asked.
Json history_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json entity = {{"type", "object"}, {"required", {"type", "id"}}, {"properties", {{"type", text}, {"id", text}}}};
  Json version = {{"type", "object"},
                  {"required", {"seq", "id", "recorded_at", "actor", "action", "reason", "request_id", "changes",
                                "leaf_hash", "proof"}},
                  {"properties",
                   {{"seq", {{"type", "integer"}}},
                    {"id", text},
                    {"recorded_at", {{"type", "string"}, {"format", "date-time"}}},
                    {"actor", {{"type", "object"}, {"additionalProperties", true}}},
                    {"action", text},
                    {"reason", nullable_text},
                    {"request_id", nullable_text},
                    {"changes",
                     {{"type", "object"},
                      {"additionalProperties", true},
                      {"description", "field → {from, to}; an erased value is {erased: true, commitment}"}}},
                    {"leaf_hash", text},
                    {"proof", {{"type", "string"}, {"description", "the path of its inclusion proof"}}}}},
                  {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"entity", "tree_size", "versions"}},
          {"properties",
           {{"entity", entity},
            {"tree_size", {{"type", "integer"}, {"minimum", 0}}},
            {"as_of", {{"type", "string"}, {"format", "date-time"}}},
            {"record",
             {{"type", {"object", "null"}},
              {"additionalProperties", true},
              {"description", "with as_of: the record as it was then; null when it did not exist yet"}}},
            {"versions", {{"type", "array"}, {"items", version}}}}},
          {"additionalProperties", false}};
}

// RFC 9162 proofs as answered: hashes in base64.
Json proof_schema(const std::vector<std::string>& counts, const std::vector<std::string>& hashes) {
  Json properties = {{"proof", {{"type", "array"}, {"items", {{"type", "string"}}}}}};
  Json required = {"proof"};
  for (const auto& c : counts) {
    properties[c] = {{"type", "integer"}, {"minimum", 0}};
    required.push_back(c);
  }
  for (const auto& h : hashes) {
    properties[h] = {{"type", "string"}, {"description", "base64"}};
    required.push_back(h);
  }
  return {{"type", "object"}, {"required", required}, {"properties", properties}, {"additionalProperties", false}};
}

}  // namespace

void add_audit_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add(answering({"GET", "/v1/audit/events", "list_audit_events",
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
              }}, 200, audit_events_schema()), Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add(answering({"GET", "/v1/audit/entities/{type}/{id}/history", "audit_entity_history",
              "Every audited version of one record, with field changes and proof links; as_of rebuilds the record "
              "as it was at that instant (auditor and admin; the read is audited)",
              AuthMode::bearer, "", "audit", {"as_of"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::AuditService(deps).history(req.ctx, req.params.at("type"), req.params.at("id"),
                                                              time_parameter(req, "as_of"));
                return r;
              }}, 200, history_schema()), Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add(answering(Route{"GET", "/v1/audit/export", "export_audit_log",
              "The log's events between from and to, streamed as jsonl (canonical leaves), csv or ocsf (OCSF 1.1.0 "
              "API Activity); personal values appear as commitments (auditor and admin; the export is audited)",
              AuthMode::bearer, "", "export", {"from", "to", "format"}, [=](ApiRequest& req) {
                return export_log(req, deps);
              }}, 200, Json{{"type", "string"}}, {"application/x-ndjson", "text/csv"}), Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add(answering(Route{"GET", "/v1/audit/checkpoint", "audit_checkpoint",
              "The latest signed checkpoint (C2SP signed note, text/plain)", AuthMode::bearer, "", "audit", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.raw_body = services::AuditService(deps).checkpoint(req.ctx);
                r.content_type = "text/plain; charset=utf-8";
                return r;
              }}, 200, Json{{"type", "string"}}, {"text/plain"}), Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add(answering({"GET", "/v1/audit/proof/inclusion", "audit_inclusion_proof",
              "RFC 9162 inclusion proof of event seq in the tree of tree_size events", AuthMode::bearer, "", "audit",
              {"seq", "tree_size"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = audit::to_json(services::AuditService(deps).inclusion(
                    req.ctx, count_parameter(req, "seq"), count_parameter(req, "tree_size")));
                return r;
              }}, 200, proof_schema({"leaf_index", "tree_size"}, {"root", "leaf_hash"})), Access::of_roles({"admin", "auditor"}, "audit:read"));
  router.add(answering({"GET", "/v1/audit/proof/consistency", "audit_consistency_proof",
              "RFC 9162 consistency proof between the trees of first and second events", AuthMode::bearer, "",
              "audit", {"first", "second"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = audit::to_json(services::AuditService(deps).consistency(
                    req.ctx, count_parameter(req, "first"), count_parameter(req, "second")));
                return r;
              }}, 200, proof_schema({"size1", "size2"}, {"root1", "root2"})), Access::of_roles({"admin", "auditor"}, "audit:read"));
}

}  // namespace nucleo::http
