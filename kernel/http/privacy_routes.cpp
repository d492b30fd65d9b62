// Data-subject erasure, what plugins hold about a subject, and legal holds (docs/api.md,
// docs/compliance.md); every call audited, writes with a reason.
#include <algorithm>

#include "kernel/domain/error.hpp"
#include "kernel/domain/html_text.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/privacy_requests.hpp"
#include "kernel/services/retention.hpp"
#include "kernel/services/anonymised_export.hpp"
#include "kernel/services/processing_record.hpp"

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
                        "channel_messages_erased", "privacy_reports_deleted",
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
            {"privacy_reports_deleted", count},
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

Json processing_record_schema() {
  Json object = {{"type", "object"}}, list = {{"type", "array"}, {"items", {{"type", "object"}}}};
  return {{"type", "object"},
          {"required", {"controller", "generated_at", "purposes", "data_categories", "recipients", "retention",
                        "security_measures"}},
          {"properties",
           {{"controller", object},
            {"generated_at", {{"type", "string"}, {"format", "date-time"}}},
            {"purposes", list},
            {"data_categories", list},
            {"recipients", list},
            {"retention", object},
            {"security_measures", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
          {"additionalProperties", false}};
}

Json purpose_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"key", "description", "declared_by"}},
          {"properties",
           {{"key", {{"type", "string"}, {"pattern", "^[a-z][a-z0-9_]{0,63}$"}}},
            {"description", text},
            {"declared_by", {{"type", "string"}, {"description", "\"tenant\", or the id of the plugin that declares it"}}}}},
          {"additionalProperties", false}};
}

Json consent_entry_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  return {{"type", "object"},
          {"required", {"id", "contact_id", "purpose", "action", "legal_basis", "source", "notice", "actor", "recorded_at"}},
          {"properties",
           {{"id", text},
            {"contact_id", text},
            {"purpose", text},
            {"action", {{"type", "string"}, {"enum", {"grant", "revoke"}}}},
            {"legal_basis", {{"type", "string"}, {"enum", services::legal_bases()}}},
            {"source",
             {{"type", "object"},
              {"required", {"type", "reference"}},
              {"properties", {{"type", text}, {"reference", nullable_text}}},
              {"additionalProperties", false}}},
            {"notice", nullable_text},
            {"actor",
             {{"type", "object"},
              {"required", {"type", "id"}},
              {"properties", {{"type", text}, {"id", text}}},
              {"additionalProperties", false}}},
            {"recorded_at", {{"type", "string"}, {"format", "date-time"}}}}},
          {"additionalProperties", false}};
}

Json consent_request_schema() {
  return {{"type", "object"},
          {"required", {"purpose", "action"}},
          {"properties",
           {{"purpose", {{"type", "string"}}},
            {"action", {{"type", "string"}, {"enum", {"grant", "revoke"}}}},
            {"legal_basis", {{"type", "string"}, {"enum", services::legal_bases()},
                             {"description", "required to grant; a revocation withdraws the current basis by default"}}},
            {"source",
             {{"type", "object"},
              {"required", {"type"}},
              {"properties",
               {{"type", {{"type", "string"}, {"enum", {"form", "channel_message", "unsubscribe_link", "import", "api"}}}},
                {"reference", {{"type", "string"}, {"maxLength", 500}}}}},
              {"additionalProperties", false}}},
            {"notice", {{"type", "string"}, {"maxLength", 20000},
                        {"description", "the text or version of the notice shown; required for a consent"}}}}},
          {"additionalProperties", false}};
}

Json consent_state_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"purpose", "state", "legal_basis", "since", "entry_id"}},
          {"properties",
           {{"purpose", text},
            {"state", {{"type", "string"}, {"enum", {"granted", "revoked"}}}},
            {"legal_basis", text},
            {"since", {{"type", "string"}, {"format", "date-time"}}},
            {"entry_id", text}}},
          {"additionalProperties", false}};
}

Json consent_decision_schema() {
  Json nullable_text = {{"type", {"string", "null"}}};
  return {{"type", "object"},
          {"required", {"allowed", "state", "legal_basis", "entry_id"}},
          {"properties",
           {{"allowed", {{"type", "boolean"}}},
            {"state", {{"type", "string"}, {"enum", {"granted", "revoked", "none"}}}},
            {"legal_basis", nullable_text},
            {"entry_id", nullable_text}}},
          {"additionalProperties", false}};
}

// The page a person sees on an unsubscribe link: Portuguese first, then English. Opening
// the link (a GET, which mail scanners also make) only asks; the button POSTs, as a
// one-click mail client does (RFC 8058).
ApiResponse unsubscribe_html(const Json& page) {
  const std::string organisation = html_escape(page["organisation"]), what = html_escape(page["description"]);
  const bool done = page["state"] == "revoked";
  std::string body =
      done ? "<p>Pronto: voc\u00ea n\u00e3o receber\u00e1 mais <em>" + what + "</em> de " + organisation +
                 ".</p><p lang=\"en\">Done: you will no longer receive <em>" + what + "</em> from " + organisation +
                 ".</p>"
           : "<p>Deixar de receber <em>" + what + "</em> de " + organisation + "?</p><p lang=\"en\">Stop receiving <em>" +
                 what + "</em> from " + organisation +
                 "?</p><form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                 "<button type=\"submit\">Cancelar inscri\u00e7\u00e3o / Unsubscribe</button></form>";
  ApiResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.raw_body = "<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
               "content=\"width=device-width\"><title>" + organisation + "</title></head><body>" + body +
               "</body></html>\n";
  return r;
}

void add_consent_routes(Router& router, services::ServiceDependencies deps) {
  using services::Operation;
  const EntitySpec& contact = entity_spec("contact");
  router.add(answering({"GET", "/v1/privacy/purposes", "list_consent_purposes",
              "The purposes consent is recorded for: the tenant's own and those plugins declare", AuthMode::bearer, "",
              "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::ConsentService(deps).purposes(req.ctx));
                return r;
              }}, 200, list_schema(purpose_schema())), Access::of_roles(services::every_role(), "contacts:read"));
  router.add(answering(Route{"PUT", "/v1/privacy/purposes/{key}", "define_consent_purpose",
              "Define one of the tenant's purposes, or change its description (admin). Purposes are never removed: "
              "consent entries name them.",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::ConsentService(deps).define_purpose(req.ctx, req.params.at("key"), req.json());
                return r;
              },
              string_fields_schema({"description"})}, 200, purpose_schema()), Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering(Route{"POST", "/v1/contacts/{id}/consents", "record_consent",
              "Record a grant or revocation of a contact's consent for a purpose (LGPD arts. 7, 8): an immutable, "
              "audited entry of the consent ledger; the contact's consent field follows it",
              AuthMode::bearer, "contact", "consent", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.status = 201;
                r.body = services::ConsentService(deps).record(req.ctx, req.params.at("id"), req.json());
                return r;
              },
              consent_request_schema()}, 201,
              Json{{"type", "object"},
                   {"required", {"entry", "contact"}},
                   {"properties", {{"entry", consent_entry_schema()}, {"contact", {{"type", "object"}}}}},
                   {"additionalProperties", false}}),
             Access::of_roles(services::roles_allowed(contact, Operation::write), "contacts:write"));
  router.add(answering({"GET", "/v1/contacts/{id}/consents", "list_contact_consents",
              "A contact's consent ledger: the state of each purpose and every entry, oldest first", AuthMode::bearer,
              "contact", "consent", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::ConsentService(deps).history(req.ctx, req.params.at("id"));
                return r;
              }}, 200,
              Json{{"type", "object"},
                   {"required", {"contact_id", "purposes", "entries"}},
                   {"properties",
                    {{"contact_id", {{"type", "string"}}},
                     {"purposes", {{"type", "array"}, {"items", consent_state_schema()}}},
                     {"entries", {{"type", "array"}, {"items", consent_entry_schema()}}}}},
                   {"additionalProperties", false}}),
             Access::of_roles(services::roles_allowed(contact, Operation::read), "contacts:read"));
  router.add(answering({"GET", "/v1/contacts/{id}/consents/{purpose}", "check_contact_consent",
              "Whether a message for this purpose may go to the contact: the kernel check channels, automation and "
              "plugins make before sending",
              AuthMode::bearer, "contact", "consent", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::ConsentService(deps)
                             .allows(req.ctx, req.params.at("id"), req.params.at("purpose"))
                             .to_json();
                return r;
              }}, 200, consent_decision_schema()),
             Access::of_roles(services::roles_allowed(contact, Operation::read), "contacts:read"));

  // A one-click unsubscribe link (RFC 8058), from an e-mail sent for a purpose: the
  // signed token is the only authority; no credential.
  router.add(answering({"GET", "/v1/privacy/unsubscribe/{token}", "show_unsubscribe",
              "The page of an unsubscribe link: asks the person to confirm (opening it revokes nothing)",
              AuthMode::none, "", "privacy", {}, [=](ApiRequest& req) {
                return unsubscribe_html(
                    services::ConsentService(deps).unsubscribe_page(req.ctx, req.params.at("token")));
              }}, 200, nullptr, {"text/html"}),
             Access::of_anyone());
  Route one_click{"POST", "/v1/privacy/unsubscribe/{token}", "unsubscribe",
                  "Revoke the purpose an e-mail was sent for: what a mail client's one-click unsubscribe "
                  "(List-Unsubscribe-Post) and the link's page send",
                  AuthMode::none, "", "privacy", {}, [=](ApiRequest& req) {
                    return unsubscribe_html(services::ConsentService(deps).unsubscribe(req.ctx, req.params.at("token")));
                  }};
  one_click.raw_request_types = {"application/x-www-form-urlencoded", "multipart/form-data"};
  one_click.raw_request_limit = 4096;
  router.add(answering(one_click, 200, nullptr, {"text/html"}), Access::of_anyone());
}

Json privacy_request_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  Json nullable_instant = {{"type", {"string", "null"}}, {"format", "date-time"}};
  Json identity = {{"type", {"object", "null"}},
                   {"required", {"method", "reference", "verified_by", "verified_at"}},
                   {"properties", {{"method", text}, {"reference", nullable_text}, {"verified_by", text}, {"verified_at", instant}}},
                   {"additionalProperties", false}};
  Json report = {{"type", {"object", "null"}},
                 {"required", {"status", "progress", "digest", "generated_at", "error"}},
                 {"properties",
                  {{"status", {{"type", "string"}, {"enum", {"queued", "running", "ready", "failed"}}}},
                   {"progress", {{"type", "object"},
                                 {"required", {"done", "total"}},
                                 {"properties", {{"done", {{"type", "integer"}}}, {"total", {{"type", "integer"}}}}}}},
                   {"digest", nullable_text},
                   {"generated_at", nullable_instant},
                   {"error", nullable_text}}},
                 {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"id", "kind", "contact_id", "status", "received_via", "details", "received_at", "due_at", "overdue",
                        "assignee_id", "task_id", "identity", "outcome", "closed_by", "closed_at", "created_by", "version",
                        "updated_at", "report"}},
          {"properties",
           {{"id", text},
            {"kind", {{"type", "string"}, {"enum", services::privacy_request_kinds()}}},
            {"contact_id", text},
            {"status", {{"type", "string"}, {"enum", {"received", "in_progress", "completed", "rejected"}}}},
            {"received_via", text},
            {"details", nullable_text},
            {"received_at", instant},
            {"due_at", instant},
            {"overdue", {{"type", "boolean"}}},
            {"assignee_id", nullable_text},
            {"task_id", nullable_text},
            {"identity", identity},
            {"outcome", nullable_text},
            {"closed_by", nullable_text},
            {"closed_at", nullable_instant},
            {"created_by", text},
            {"version", {{"type", "integer"}, {"minimum", 1}}},
            {"updated_at", instant},
            {"report", report}}},
          {"additionalProperties", false}};
}

Json open_request_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"kind", "contact_id", "received_via"}},
          {"properties",
           {{"kind", {{"type", "string"}, {"enum", services::privacy_request_kinds()}}},
            {"contact_id", text},
            {"received_via", {{"type", "string"}, {"description", "how it came: e-mail, form, phone, letter…"}}},
            {"details", {{"type", "string"}, {"maxLength", 20000}}},
            {"received_at", {{"type", "string"}, {"format", "date-time"}, {"description", "default: now"}}},
            {"assignee_id", {{"type", "string"}, {"description", "an admin; default: the caller"}}}}},
          {"additionalProperties", false}};
}

ApiResponse report_file(const services::SubjectReportFile& file) {
  ApiResponse r;
  r.content_type = file.content_type;
  r.raw_body = file.body;
  r.headers["Content-Disposition"] = "attachment; filename=\"" + file.file_name + "\"";
  return r;
}

// ?format=json (default) or markdown; 400 otherwise, as for every query parameter.
std::string format_of(const ApiRequest& req) {
  std::string format = req.query.count("format") ? req.query.at("format") : "json";
  if (format != "json" && format != "markdown")
    throw BadRequest("query parameter 'format' must be json or markdown, not '" + format + "'",
                     {{"format", "must be json or markdown"}});
  return format;
}

// The report's JSON bundle, in outline (docs/compliance.md "Data-subject requests").
Json subject_report_schema() {
  Json object = {{"type", "object"}}, list = {{"type", "array"}, {"items", {{"type", "object"}}}};
  return {{"type", "object"},
          {"required", {"format", "version", "generated_at", "controller", "request", "subject", "contact", "deals",
                        "interactions", "tasks", "channel_deliveries", "consents", "plugin_data", "privacy_requests",
                        "sharing", "history", "audit"}},
          {"properties",
           {{"format", {{"type", "string"}, {"enum", {"nucleo-subject-report"}}}},
            {"version", {{"type", "integer"}}},
            {"generated_at", {{"type", "string"}, {"format", "date-time"}}},
            {"controller", object}, {"request", object}, {"subject", object}, {"contact", object},
            {"deals", list}, {"interactions", list}, {"tasks", list}, {"channel_deliveries", list},
            {"consents", object}, {"plugin_data", object}, {"privacy_requests", list}, {"sharing", object},
            {"history", {{"type", "object"}, {"description", "\"<type>/<id>\": every recorded version, oldest first"}}},
            {"audit", {{"type", "object"},
                       {"description", "the newest event of each record with its inclusion proof to the checkpoint: "
                                       "nucleo audit verify checks it offline"}}}}}};
}

// A step of a request: POST /v1/privacy/requests/{id}/<action> with a small body.
void add_request_step(Router& router, services::ServiceDependencies deps, const std::string& action,
                      const std::string& operation, const std::string& summary, const std::vector<std::string>& fields,
                      std::function<Json(services::PrivacyRequestService&, ApiRequest&, const Json&)> step) {
  router.add(answering(Route{"POST", "/v1/privacy/requests/{id}/" + action, operation, summary, AuthMode::bearer, "",
              "privacy", {},
              [=](ApiRequest& req) {
                services::PrivacyRequestService requests(deps);
                ApiResponse r;
                r.body = step(requests, req, fields.empty() ? Json::object() : req.json());
                return r;
              },
              fields.empty() ? Json(nullptr) : string_fields_schema(fields)}, 200, privacy_request_schema()),
             Access::of_roles({"admin"}, "privacy:write"));
}

void add_request_routes(Router& router, services::ServiceDependencies deps) {
  router.add(answering(Route{"POST", "/v1/privacy/requests", "open_privacy_request",
              "Record a data-subject request (LGPD art. 18): due privacy.request_deadline_days after it was received, "
              "with a task on the assignee's agenda (admin)",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.status = 201;
                r.body = services::PrivacyRequestService(deps).open(req.ctx, req.json());
                return r;
              },
              open_request_schema()}, 201, privacy_request_schema()), Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering({"GET", "/v1/privacy/requests", "list_privacy_requests",
              "Data-subject requests, newest first; status=open for those still to answer (admin and auditor)",
              AuthMode::bearer, "", "privacy", {"status", "subject_id", "limit"}, [=](ApiRequest& req) {
                std::size_t limit = 50;
                if (req.query.count("limit")) {
                  const std::string& text = req.query.at("limit");
                  if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos ||
                      std::stoul(text) < 1 || std::stoul(text) > 200)
                    throw BadRequest("query parameter 'limit' must be an integer from 1 to 200", {{"limit", "1-200"}});
                  limit = std::stoul(text);
                }
                ApiResponse r;
                r.body["data"] = array_of(services::PrivacyRequestService(deps).list(
                    req.ctx, req.query.count("status") ? req.query.at("status") : "",
                    req.query.count("subject_id") ? req.query.at("subject_id") : "", limit));
                return r;
              }}, 200, list_schema(privacy_request_schema())), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering({"GET", "/v1/privacy/requests/{id}", "get_privacy_request",
              "One data-subject request with its deadline, identity check, report progress and outcome (admin and auditor)",
              AuthMode::bearer, "", "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::PrivacyRequestService(deps).get(req.ctx, req.params.at("id"));
                return r;
              }}, 200, privacy_request_schema()), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  add_request_step(router, deps, "assign", "assign_privacy_request", "Hand the request and its task to another admin",
                   {"assignee_id"},
                   [](auto& s, ApiRequest& req, const Json& body) { return s.assign(req.ctx, req.params.at("id"), body); });
  add_request_step(router, deps, "identity", "verify_privacy_request_identity",
                   "Record how the requester was identified (method and reference); the request is then in progress",
                   {"method", "reference"},
                   [](auto& s, ApiRequest& req, const Json& body) { return s.verify_identity(req.ctx, req.params.at("id"), body); });
  router.add(answering(Route{"POST", "/v1/privacy/requests/{id}/report", "generate_privacy_report",
              "Generate the report of an access, portability or information-on-sharing request: a job gathers "
              "everything held about the subject, with progress on the request (admin)",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.status = 202;
                r.body = services::PrivacyRequestService(deps).queue_report(req.ctx, req.params.at("id"));
                return r;
              }}, 202, privacy_request_schema()), Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering({"GET", "/v1/privacy/requests/{id}/report", "read_privacy_report",
              "The ready report: the JSON bundle (format=json, verifiable offline with nucleo audit verify) or the "
              "readable document (format=markdown); audited (admin and auditor)",
              AuthMode::bearer, "", "export", {"format"}, [=](ApiRequest& req) {
                return report_file(services::PrivacyRequestService(deps).report(req.ctx, req.params.at("id"), format_of(req)));
              }}, 200, subject_report_schema(), {"application/json", "text/markdown"}),
             Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering(Route{"POST", "/v1/privacy/requests/{id}/download-link", "issue_privacy_report_link",
              "A signed link the data subject downloads the ready report with, until it expires "
              "(privacy.report_link_hours); audited (admin)",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.status = 201;
                r.body = services::PrivacyRequestService(deps).download_link(req.ctx, req.params.at("id"));
                return r;
              }}, 201,
              Json{{"type", "object"},
                   {"required", {"url", "path", "expires_at"}},
                   {"properties", {{"url", {{"type", "string"}}}, {"path", {{"type", "string"}}},
                                   {"expires_at", {{"type", "string"}, {"format", "date-time"}}}}},
                   {"additionalProperties", false}}),
             Access::of_roles({"admin"}, "privacy:write"));
  for (const std::string status : {"completed", "rejected"})
    add_request_step(router, deps, status == "completed" ? "complete" : "reject",
                     status == "completed" ? "complete_privacy_request" : "reject_privacy_request",
                     status == "completed"
                         ? "Close the request as answered, with the outcome told to the requester (identity checked; "
                           "the report ready for access and portability; the subject erased for erasure)"
                         : "Close the request as refused, with the reason told to the requester (art. 18 §4)",
                     {"outcome"}, [status](auto& s, ApiRequest& req, const Json& body) {
                       return s.close(req.ctx, req.params.at("id"), status, body);
                     });
  // The data subject's download: the signed link is the only authority; no credential.
  router.add(answering({"GET", "/v1/privacy/reports/{token}", "download_privacy_report",
              "Download a report through its signed link (no credential; format=markdown for the document)",
              AuthMode::none, "", "export", {"format"}, [=](ApiRequest& req) {
                return report_file(
                    services::PrivacyRequestService(deps).download(req.ctx, req.params.at("token"), format_of(req)));
              }}, 200, subject_report_schema(), {"application/json", "text/markdown"}),
             Access::of_anyone());
}

Json retention_policy_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"description", "entity", "after_days"}},
          {"properties",
           {{"description", text},
            {"entity", {{"type", "string"}, {"enum", {"contact", "interaction", "plugin_record"}}}},
            {"after_days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 36500}}},
            {"enabled", {{"type", "boolean"}}},
            {"purpose_not_granted", {{"type", "string"}, {"description", "contact: only those without this purpose granted"}}},
            {"types", {{"type", "array"}, {"items", text}, {"description", "interaction: only these types"}}},
            {"plugin_id", text},
            {"collection", text},
            {"date_field", {{"type", "string"}, {"description", "plugin_record: an indexed date the period counts from"}}}}},
          {"additionalProperties", false}};
}

Json stored_retention_policy_schema() {
  Json schema = retention_policy_schema();
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  schema["required"] = {"key", "description", "entity", "after_days", "enabled", "version", "updated_at", "grace_ends_at"};
  schema["properties"]["key"] = {{"type", "string"}};
  schema["properties"]["version"] = {{"type", "integer"}};
  schema["properties"]["updated_at"] = instant;
  schema["properties"]["grace_ends_at"] = instant;
  return schema;
}

void add_retention_routes(Router& router, services::ServiceDependencies deps) {
  router.add(answering({"GET", "/v1/privacy/retention/policies", "list_retention_policies",
              "The tenant's retention policies, each with the end of its grace period (admin and auditor)",
              AuthMode::bearer, "", "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::RetentionService(deps).policies(req.ctx));
                return r;
              }}, 200, list_schema(stored_retention_policy_schema())), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering(Route{"PUT", "/v1/privacy/retention/policies/{key}", "define_retention_policy",
              "Define or change a retention policy (admin): when a contact, an interaction's content or a plugin's "
              "personal document has served its purpose. Its grace period starts again.",
              AuthMode::bearer, "", "privacy", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::RetentionService(deps).define_policy(req.ctx, req.params.at("key"), req.json());
                return r;
              },
              retention_policy_schema()}, 200, stored_retention_policy_schema()),
             Access::of_roles({"admin"}, "privacy:write"));
  router.add(answering({"GET", "/v1/privacy/retention/plan", "plan_retention",
              "What the next retention run would touch, per policy, and what a legal hold keeps (admin and auditor)",
              AuthMode::bearer, "", "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body = services::RetentionService(deps).plan(req.ctx);
                return r;
              }}, 200), Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering({"GET", "/v1/privacy/retention/runs", "list_retention_runs",
              "The latest retention runs, newest first, with what each touched per policy (admin and auditor)",
              AuthMode::bearer, "", "privacy", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::RetentionService(deps).runs(req.ctx, 50));
                return r;
              }}, 200), Access::of_roles({"admin", "auditor"}, "privacy:read"));
}

}  // namespace

void add_privacy_routes(Router& router, services::ServiceDependencies deps) {
  add_consent_routes(router, deps);
  add_request_routes(router, deps);
  add_retention_routes(router, deps);
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
  router.add(answering({"GET", "/v1/privacy/processing-record", "processing_record",
              "The record of processing operations (LGPD art. 37), generated from the system: purposes and the legal "
              "bases recorded, personal data per entity and plugin, recipients, retention, security measures; "
              "format=markdown for a document to file (admin and auditor)",
              AuthMode::bearer, "", "privacy", {"format"}, [=](ApiRequest& req) {
                std::string format = req.query.count("format") ? req.query.at("format") : "json";
                if (format != "json" && format != "markdown")
                  throw BadRequest("query parameter 'format' must be json or markdown, not '" + format + "'",
                                   {{"format", "must be json or markdown"}});
                ApiResponse r;
                r.body = services::ProcessingRecord(deps).generate(req.ctx);
                if (format == "markdown") {
                  r.raw_body = services::ProcessingRecord::markdown(r.body);
                  r.content_type = "text/markdown; charset=utf-8";
                }
                return r;
              }}, 200, processing_record_schema(), {"application/json", "text/markdown"}),
             Access::of_roles({"admin", "auditor"}, "privacy:read"));
  router.add(answering({"GET", "/v1/privacy/anonymised-export", "anonymised_export",
              "Deals and interactions with every personal datum taken out (LGPD art. 12), for analytics: one JSON "
              "object per line, deals first; keys d1, a1… are new in every export (admin, manager, auditor; audited)",
              AuthMode::bearer, "", "export", {}, [=](ApiRequest& req) {
                services::AnonymisedExport(deps).begin(req.ctx);  // refuses other roles before streaming
                ApiResponse r;
                r.content_type = "application/x-ndjson";
                r.headers["Content-Disposition"] = "attachment; filename=\"anonymised-" + req.ctx.tenant_id + ".jsonl\"";
                r.stream = [deps, ctx = req.ctx](const BodyWriter& write) {
                  constexpr std::size_t flush_at = 64 * 1024;
                  std::string buffer;
                  bool open = true;
                  services::AnonymisedExport(deps).run(ctx, [&](const Json& line) {
                    buffer += line.dump() + "\n";
                    if (buffer.size() >= flush_at) {
                      open = write(buffer);
                      buffer.clear();
                    }
                    return open;
                  });
                  if (open && !buffer.empty()) write(buffer);
                };
                return r;
              }}, 200, Json{{"type", "string"}}, {"application/x-ndjson"}),
             Access::of_roles({"admin", "manager", "auditor"}, "privacy:read"));
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
