// Data-subject erasure, what plugins hold about a subject, and legal holds (docs/api.md,
// docs/compliance.md); every call audited, writes with a reason.
#include <algorithm>

#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/privacy_service.hpp"

namespace nucleo::http {
namespace {

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

Json erasure_schema() {
  Json count = {{"type", "integer"}, {"minimum", 0}};
  return {{"type", "object"},
          {"required", {"contact_id", "erased_at", "interactions_erased", "sealed_values_destroyed",
                        "idempotency_records_purged", "outbox_events_purged", "jobs_purged",
                        "personal_attributes_erased", "plugin_records_deleted", "plugin_records_redacted",
                        "channel_messages_erased",
                        "audit_event_id"}},
          {"properties",
           {{"contact_id", {{"type", "string"}}},
            {"erased_at", {{"type", "string"}, {"format", "date-time"}}},
            {"interactions_erased", count},
            {"sealed_values_destroyed", count},
            {"idempotency_records_purged", count},
            {"outbox_events_purged", count},
            {"jobs_purged", count},
            {"personal_attributes_erased", count},
            {"plugin_records_deleted", count},
            {"plugin_records_redacted", count},
            {"channel_messages_erased", count},
            {"audit_event_id", {{"type", "string"}}}}},
          {"additionalProperties", false}};
}

Json hold_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  Json nullable_instant = {{"type", {"string", "null"}}, {"format", "date-time"}};
  return {{"type", "object"},
          {"required", {"id", "subject_id", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at", "lift_reason",
                        "active"}},
          {"properties",
           {{"id", text},
            {"subject_id", text},
            {"reason", text},
            {"placed_by", text},
            {"placed_at", instant},
            {"lifted_by", nullable_text},
            {"lifted_at", nullable_instant},
            {"lift_reason", nullable_text},
            {"active", {{"type", "boolean"}}}}},
          {"additionalProperties", false}};
}

// What plugins hold about a person: documents of personal collections, personal attributes.
Json plugin_data_schema() {
  Json text = {{"type", "string"}};
  Json document = {{"type", "object"},
                   {"required", {"plugin_id", "collection", "id", "version", "document", "personal_fields", "on_erasure"}},
                   {"properties",
                    {{"plugin_id", text},
                     {"collection", text},
                     {"id", text},
                     {"version", {{"type", "integer"}, {"minimum", 1}}},
                     {"document", {{"type", "object"}}},
                     {"personal_fields", {{"type", "array"}, {"items", text}}},
                     {"on_erasure", {{"type", "string"}, {"enum", {"delete", "redact"}}}}}},
                   {"additionalProperties", false}};
  Json attribute = {{"type", "object"},
                    {"required", {"entity_type", "entity_id", "key", "value"}},
                    {"properties", {{"entity_type", text}, {"entity_id", text}, {"key", text}, {"value", Json::object()}}},
                    {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"contact_id", "plugin_records", "personal_attributes"}},
          {"properties",
           {{"contact_id", text},
            {"plugin_records", {{"type", "array"}, {"items", document}}},
            {"personal_attributes", {{"type", "array"}, {"items", attribute}}}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_privacy_routes(Router& router, services::ServiceDependencies deps) {
  router.add(answering(Route{"POST", "/v1/privacy/erasures", "erase_data_subject",
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
              string_fields_schema({"contact_id", "reason"})}, 201, erasure_schema()), Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering(Route{"POST", "/v1/privacy/holds", "place_legal_hold",
              "Place a legal hold on a contact's data: erasure is refused until it is lifted (admin)", AuthMode::bearer,
              "", "privacy", {},
              [=](ApiRequest& req) {
                auto f = string_fields(req, {"contact_id", "reason"}, "a legal hold");
                ApiResponse r;
                r.status = 201;
                r.body = services::PrivacyService(deps).place_hold(req.ctx, f["contact_id"], f["reason"]);
                return r;
              },
              string_fields_schema({"contact_id", "reason"})}, 201, hold_schema()), Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering({"GET", "/v1/privacy/holds", "list_legal_holds", "Legal holds, newest first (admin and auditor)",
              AuthMode::bearer, "", "audit", {"subject_id"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::PrivacyService(deps).holds(
                    req.ctx, req.query.count("subject_id") ? req.query.at("subject_id") : ""));
                return r;
              }}, 200, list_schema(hold_schema())), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering({"GET", "/v1/privacy/subjects/{id}/plugin-data", "read_subject_plugin_data",
              "What plugins hold about a contact: documents of collections declared personal that name her, and "
              "attributes declared personal (admin and auditor; audited)",
              AuthMode::bearer, "", "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::PrivacyService(deps).plugin_data(req.ctx, req.params.at("id"));
                return r;
              }}, 200, plugin_data_schema()), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering({"POST", "/v1/privacy/holds/{id}/lift", "lift_legal_hold", "Lift a legal hold, with a reason (admin)",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                auto f = string_fields(req, {"reason"}, "a hold lift");
                ApiResponse r;
                r.body = services::PrivacyService(deps).lift_hold(req.ctx, req.params.at("id"), f["reason"]);
                return r;
              },
              string_fields_schema({"reason"})}, 200, hold_schema()), Access::of_roles({"admin"}, "privacy:write"));
}

}  // namespace nucleo::http
