#include "kernel/http/openapi.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "kernel/domain/version.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"

// The document describes the server exactly (docs/api.md, "The API contract"): every
// status an operation can answer, its headers, and schemas a validating client can hold
// the server to — tests/contract checks every exchange of the end-to-end tests against
// it. ADR 0021 records the choices.
namespace nucleo::http {
namespace {

std::string schema_name(const std::string& entity_type) {
  std::string name;
  bool upper = true;
  for (char c : entity_type) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return name;
}

Json schema_ref(const std::string& schema) {
  return {{"$ref", "#/components/schemas/" + schema}};
}

Json id_schema(const std::string& prefix) {
  return {{"type", "string"}, {"pattern", "^" + prefix + "_[0-9a-z]{26}$"}};
}

// An object whose keys are free: generated clients read it as a map, not as `{}`.
Json open_object(const std::string& description) {
  return {{"type", "object"}, {"additionalProperties", true}, {"description", description}};
}

// A field as the API shows it; `nullable` when it may be null (optional fields).
Json field_schema(const FieldSpec& f, bool nullable) {
  Json s;
  switch (f.type) {
    case FieldType::text:
      s = {{"type", "string"}, {"maxLength", f.max_length}};
      break;
    case FieldType::enumeration:
      s = {{"type", "string"}, {"enum", f.allowed}};
      break;
    case FieldType::integer:
      s = {{"type", "integer"}, {"minimum", -9007199254740991LL}, {"maximum", 9007199254740991LL}};
      break;
    case FieldType::boolean:
      s = {{"type", "boolean"}};
      break;
    case FieldType::timestamp:
      s = {{"type", "string"}, {"format", "date-time"}};
      break;
    case FieldType::date:
      s = {{"type", "string"}, {"format", "date"}};
      break;
    case FieldType::reference:
      s = id_schema(entity_spec(f.target).prefix);
      break;
    case FieldType::email:
      s = {{"type", "string"}, {"description", "an e-mail address, stored lower-cased"}};
      break;
    case FieldType::phone:
      s = {{"type", "string"}, {"description", "a phone number; shown in E.164 after normalisation"}};
      break;
    case FieldType::tax_id:
      s = {{"type", "string"}, {"description", "CPF, CNPJ (numeric or alphanumeric) or other"}};
      break;
    case FieldType::currency:
      s = {{"type", "string"}, {"pattern", "^[A-Z]{3}$"}};
      break;
    case FieldType::country:
      s = {{"type", "string"}, {"pattern", "^[A-Z]{2}$"}};
      break;
    case FieldType::email_list:
    case FieldType::phone_list:
      s = {{"type", "array"}, {"items", {{"type", "string"}}}};
      break;
    case FieldType::object:
      s = open_object("a JSON object");
      break;
    case FieldType::array:
      s = {{"type", "array"}, {"items", f.items.is_null() ? Json::object() : f.items}};
      break;
  }
  if (nullable) {
    s["type"] = Json::array({s["type"], "null"});
    if (s.contains("enum")) s["enum"].push_back(nullptr);  // an enum lists every value, null too
  }
  if (f.derived) s["readOnly"] = true;
  return s;
}

// What plugins declared for an entity's `attributes`; `required` moves to the object.
Json attributes_schema(const EntitySpec& spec, const services::AttributeSchemas* attributes, bool with_required) {
  Json schema = open_object("plugin-declared attributes, namespaced \"<namespace>.<key>\"");
  Json declared = attributes ? attributes->declared(spec.type) : Json::object();
  Json needed = Json::array();
  for (auto& [key, rule] : declared.items()) {
    if (rule.value("required", false)) needed.push_back(key);
    rule.erase("required");  // JSON Schema says it on the object
    // Nucleo's own keywords are extensions to OpenAPI: whose data it is, whether reading it is audited.
    for (const char* own : {"personal", "sensitive"})
      if (rule.contains(own)) {
        rule[std::string("x-nucleo-") + own] = rule[own];
        rule.erase(own);
      }
  }
  if (!declared.empty()) schema["properties"] = declared;
  if (with_required && !needed.empty()) schema["required"] = needed;
  return schema;
}

// A record as the server answers it: every field present, null when unset.
Json entity_schema(const EntitySpec& spec, const services::AttributeSchemas* attributes) {
  Json properties = {
      {"id", {{"type", "string"}, {"readOnly", true}, {"pattern", "^" + spec.prefix + "_[0-9a-z]{26}$"}}},
      {"tenant_id", {{"type", "string"}, {"readOnly", true}}},
      {"version", {{"type", "integer"}, {"readOnly", true}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}},
      {"archived_at", {{"type", {"string", "null"}}, {"format", "date-time"}, {"readOnly", true}}}};
  Json required = {"id", "tenant_id", "version", "created_at", "updated_at", "archived_at"};
  for (const auto& f : spec.fields) {
    if (f.hidden) continue;
    properties[f.name] = field_schema(f, !f.required);
    required.push_back(f.name);
  }
  if (spec.has_attributes) {
    properties["attributes"] = attributes_schema(spec, attributes, true);
    required.push_back("attributes");
  }
  if (spec.reports_duplicates)
    properties["duplicates"] = {{"type", "array"},
                                {"readOnly", true},
                                {"description", "on a write's answer: other live records with the same e-mail or phone"},
                                {"items", schema_ref("Duplicate")}};
  return {{"type", "object"},
          {"description", "A " + spec.type + ". Fields marked readOnly are set by Nucleo."},
          {"properties", properties},
          {"required", required},
          {"additionalProperties", false}};
}

// What a create (`creating`) or a PATCH may send: the writable fields; a PATCH names
// only those it changes.
Json entity_write_schema(const EntitySpec& spec, const services::AttributeSchemas* attributes, bool creating) {
  Json properties = Json::object();
  Json required = Json::array();
  for (const auto& f : spec.fields) {
    if (f.hidden || f.derived) continue;
    properties[f.name] = field_schema(f, !(creating && f.required));
    if (creating && f.required) required.push_back(f.name);
  }
  if (spec.has_attributes) {
    properties["attributes"] = attributes_schema(spec, attributes, creating);
    if (properties["attributes"].contains("required")) required.push_back("attributes");
  }
  Json schema = {{"type", "object"},
                 {"description", creating ? "A new " + spec.type + ": its writable fields"
                                          : "The fields of a " + spec.type + " to change; the others stay as they are"},
                 {"properties", properties},
                 {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

// Each operation is judged on its own and answered in its result (422 for one that is
// malformed), so the request holds any objects; the typed shapes are documented.
Json batch_request_schema(const std::string& schema) {
  Json operation = {
      {"type", "object"},
      {"description", "{\"method\": \"create\", \"data\": " + schema + "Create} or {\"method\": \"update\", \"id\", "
                      "\"version\" (optional; 412 in its result when the record moved on), \"data\": " + schema +
                      "Patch}"},
      {"properties",
       {{"method", {{"type", "string"}, {"description", "create or update; another is refused in its result"}}},
        {"id", {{"type", "string"}}},
        {"version", {{"type", "integer"}}},
        {"data", open_object("the fields to create or change")}}}};
  return {{"type", "object"},
          {"required", {"operations"}},
          {"properties",
           {{"operations", {{"type", "array"}, {"minItems", 1}, {"maxItems", 100}, {"items", operation}}},
            {"atomic", {{"type", "boolean"}, {"description", "all or nothing; false when absent"}}}}},
          {"additionalProperties", false}};
}

Json batch_response_schema(const std::string& schema) {
  Json result = {{"type", "object"},
                 {"required", {"status"}},
                 {"properties",
                  {{"status", {{"type", "integer"}, {"description", "201, 200, or the problem's (424: not applied)"}}},
                   {"data", schema_ref(schema)},
                   {"problem", schema_ref("Problem")}}}};
  return {{"type", "object"},
          {"required", {"results"}},
          {"properties", {{"results", {{"type", "array"}, {"items", result}}}}}};
}

Json problem_schema() {
  Json string = {{"type", "string"}};
  Json field_error = {
      {"type", "object"},
      {"required", {"field", "message"}},
      {"properties",
       {{"field", string},
        {"message", string},
        {"code", {{"type", "string"}, {"description", "a stable name of the problem, when it has one"}}}}}};
  Json properties = {
      {"type", string},   {"title", string},      {"status", {{"type", "integer"}}},
      {"detail", string}, {"request_id", string}, {"errors", {{"type", "array"}, {"items", field_error}}}};
  return {{"type", "object"},
          {"description", "RFC 9457 problem details"},
          {"properties", properties},
          {"required", {"type", "title", "status", "detail", "request_id", "errors"}}};
}

Json duplicate_schema() {
  Json string = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"entity_type", "id", "field", "value"}},
          {"properties", {{"entity_type", string}, {"id", string}, {"field", string}, {"value", string}}}};
}

Json search_schema() {
  Json filter = {
      {"type", "object"},
      {"required", {"field", "op"}},
      {"properties",
       {{"field", {{"type", "string"}, {"description", "a field, or attributes.<key>"}}},
        {"op", {{"type", "string"}, {"enum", {"eq", "neq", "lt", "lte", "gt", "gte", "in", "contains", "starts_with", "exists"}}}},
        {"value", {{"description", "scalar; array for in; boolean for exists"}}}}}};
  Json group = {{"type", "object"},
                {"properties", {{"filters", {{"type", "array"}, {"maxItems", 20}, {"items", filter}}}}}};
  Json sort = {{"type", "object"},
               {"properties",
                {{"field", {{"type", "string"}}}, {"direction", {{"type", "string"}, {"enum", {"asc", "desc"}}}}}}};
  Json properties = Json::object();
  properties["filter_groups"] = {{"type", "array"}, {"maxItems", 10}, {"items", group}};
  properties["sort"] = {{"type", "array"}, {"maxItems", 1}, {"items", sort}};
  properties["limit"] = {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}};
  properties["cursor"] = {{"type", "string"}};
  return {
      {"type", "object"},
      {"description", "Groups are OR-ed; the filters of a group are AND-ed. contains is case- and accent-insensitive."},
      {"properties", properties}};
}

Json json_content(const Json& schema) {
  return {{"application/json", {{"schema", schema}}}};
}

Json header_ref(const std::string& name) {
  return {{"$ref", "#/components/headers/" + name}};
}

// The response headers the server sends, by name (components/headers).
Json headers_component() {
  auto header = [](const std::string& description, Json schema = {{"type", "string"}}, bool required = false) {
    return Json{{"description", description}, {"schema", schema}, {"required", required}};
  };
  Json text = {{"type", "string"}};
  return {{"X-Request-Id",
           header("The request's id (the client's own when it sent a usable one); in every log line", text, true)},
          {"ETag", header("The version of the record answered, quoted: send it back as If-Match")},
          {"RecordETag", header("The record's version, quoted: send it back as If-Match", text, true)},
          {"Location", header("The new record's path", text, true)},
          {"Retry-After", header("Seconds to wait before retrying", {{"type", "integer"}, {"minimum", 0}})},
          {"Idempotent-Replayed", header("true when this is the stored answer to an earlier request with the same "
                                         "Idempotency-Key",
                                         {{"type", "string"}, {"enum", {"true"}}})},
          {"WWW-Authenticate", header("Bearer")},
          {"Nucleo-Write-Position",
           header("With read replicas (store.replica_urls): the primary's WAL position after this request's writes. "
                  "Send it back as Nucleo-Read-After so that lists and searches read what this write did")},
          {"Content-Disposition", header("attachment; filename=…")}};
}

// Every problem status the server answers (docs/api.md, "Errors"), by status.
const std::map<int, std::string>& problem_statuses() {
  static const std::map<int, std::string> statuses = {
      {400, "Malformed request: body, query parameter or header (named in errors[])"},
      {401, "Missing or invalid API key"},
      {403, "The key's role or scopes do not allow this"},
      {404, "No such record in this tenant"},
      {409, "Conflicts with the record's state, or a concurrent change (detail says which; retry the latter)"},
      {410, "Replayed by Idempotency-Key: the request was applied, but its stored answer held personal data since "
            "erased"},
      {412, "If-Match names a version the record has moved on from"},
      {413, "The body exceeds the server's limit"},
      {415, "The body is not application/json"},
      {422, "Invalid fields, named in errors[]"},
      {429, "Too many requests; see Retry-After"},
      {431, "The request head is too large"},
      {500, "Internal error; the server log has the request id"},
      {503, "Not ready or overloaded; see Retry-After"}};
  return statuses;
}

Json problem_responses_component() {
  Json responses = Json::object();
  for (const auto& [status, description] : problem_statuses()) {
    Json headers = {{"X-Request-Id", header_ref("X-Request-Id")},
                    {"Idempotent-Replayed", header_ref("Idempotent-Replayed")}};
    if (status == 401) headers["WWW-Authenticate"] = header_ref("WWW-Authenticate");
    if (status == 429 || status == 503) headers["Retry-After"] = header_ref("Retry-After");
    responses["Problem" + std::to_string(status)] = {
        {"description", description},
        {"headers", headers},
        {"content", {{"application/problem+json", {{"schema", schema_ref("Problem")}}}}}};
  }
  return responses;
}

// The problems an operation can answer: the transport's (400, 413, 431, 503), the
// server's 500, and for bearer routes authentication, authorisation and the rest.
std::vector<int> problems_of(const Route& route, bool conditional) {
  std::vector<int> out{400, 413, 431, 500, 503};
  // A plugin's route answers the problems its plugin raises, whatever its authentication.
  if (route.auth == AuthMode::bearer || route.kind == "plugin")
    out.insert(out.end(), {401, 403, 404, 409, 415, 422, 429});
  // A kernel route that takes no credential still names what it serves (an unsubscribe
  // link's token: 404 when it is not one) and may take a body of its own types.
  else if (route.path.find('{') != std::string::npos)
    out.push_back(404);
  if (route.auth == AuthMode::none && !route.raw_request_types.empty()) out.insert(out.end(), {415, 422});
  if (route.method == "POST" && route.auth == AuthMode::bearer) out.push_back(410);
  if (conditional) out.push_back(412);
  for (int status : route.extra_problems)
    if (std::find(out.begin(), out.end(), status) == out.end()) out.push_back(status);
  return out;
}

bool is_conditional(const Route& route) {
  return route.conditional || route.kind == "update" || route.kind == "archive" || route.kind == "restore" ||
         route.kind == "action";
}

// The tag of a route: its entity, or the first segment after /v1 (audit, webhooks…).
std::string tag_of(const Route& route) {
  if (!route.entity_type.empty()) return route.entity_type;
  if (route.kind == "plugin") return "plugins";
  std::string rest = route.path.rfind("/v1/", 0) == 0 ? route.path.substr(4) : "";
  std::string first = rest.substr(0, rest.find('/'));
  if (first.empty() || first.find('.') != std::string::npos) return "meta";
  return first;
}

const std::map<std::string, std::string>& tag_descriptions() {
  static const std::map<std::string, std::string> tags = {
      {"audit", "The provable audit log: events, histories, proofs, checkpoints and exports"},
      {"webhooks", "Subscriptions of URLs to domain events, signed per Standard Webhooks"},
      {"imports", "Bulk imports of CSV files as jobs: upload, progress, cancel, failed rows (docs/import.md)"},
      {"privacy", "Erasure of a data subject's personal data and legal holds (LGPD/GDPR)"},
      {"channels", "Channel accounts of plugins' channels and the messages sent through them"},
      {"events", "Domain events that failed delivery to a subscriber, and their replay"},
      {"jobs", "Background jobs whose last run failed: listed, retried or discarded"},
      {"automation", "Automation rules' dry runs and what the rules did (the rules: automation_rule)"},
      {"cadences", "Cadences' enrolments: who is in which cadence, the step due next, or why it stopped"},
      {"plugins", "The configured plugins and the routes they serve (under /v1/x/<plugin id>)"},
      {"meta", "This document"},
      {"operations", "Liveness, readiness and metrics for orchestrators and Prometheus"}};
  return tags;
}

Json parameter(const std::string& name, const std::string& in, bool required, Json schema,
               const std::string& description = "") {
  Json p = {{"name", name}, {"in", in}, {"required", required}, {"schema", std::move(schema)}};
  if (!description.empty()) p["description"] = description;
  return p;
}

Json query_parameter(const std::string& name) {
  if (name == "limit") return parameter(name, "query", false, {{"type", "integer"}, {"minimum", 1}}, "page size");
  if (name == "quiet_days")
    return parameter(name, "query", false, {{"type", "integer"}, {"minimum", 1}, {"maximum", 3650}},
                     "days without an interaction that raise no_activity (30)");
  if (name == "dry_run")
    return parameter(name, "query", false, {{"type", "string"}, {"enum", {"true", "false"}}},
                     "true: answer what would change, write nothing");
  if (name == "confirm_self")
    return parameter(name, "query", false, {{"type", "string"}, {"enum", {"true", "false"}}},
                     "true: archive the caller's own user, ending the caller's access (refused with 409 otherwise)");
  if (name == "stalled")
    return parameter(name, "query", false, {{"type", "string"}, {"enum", {"true", "false"}}},
                     "true: only deals stalled in their stage (stalled_since set); false: only the others");
  if (name == "cursor") return parameter(name, "query", false, {{"type", "string"}}, "next_cursor of the last page");
  // The audit proofs' tree positions (route_helpers' count_parameter: required).
  if (name == "seq" || name == "tree_size" || name == "first" || name == "second")
    return parameter(name, "query", true, {{"type", "integer"}, {"minimum", 0}}, "a position in the audit log");
  if (name == "updated_since" || name == "from" || name == "to" || name == "as_of")
    return parameter(name, "query", false, {{"type", "string"}, {"format", "date-time"}}, "an RFC 3339 instant");
  return parameter(name, "query", false, {{"type", "string"}});
}

Json parameters_of(const Route& route, bool conditional) {
  Json parameters = Json::array();
  for (auto open = route.path.find('{'); open != std::string::npos; open = route.path.find('{', open + 1)) {
    std::string name = route.path.substr(open + 1, route.path.find('}', open) - open - 1);
    Json schema = name == "id" && !route.entity_type.empty() ? id_schema(entity_spec(route.entity_type).prefix)
                                                              : Json{{"type", "string"}};
    parameters.push_back(parameter(name, "path", true, schema));
  }
  for (const auto& q : route.query_parameters) parameters.push_back(query_parameter(q));
  if (conditional)
    parameters.push_back(parameter("If-Match", "header", false, {{"type", "string"}},
                                   "the ETag (version) last read; 412 when the record moved on"));
  if (route.method == "POST" && route.auth == AuthMode::bearer)
    parameters.push_back(parameter("Idempotency-Key", "header", false, {{"type", "string"}, {"maxLength", 255}},
                                   "replays the stored answer for 24 h"));
  if (route.auth == AuthMode::bearer && reads_may_lag(route))
    parameters.push_back(parameter("Nucleo-Read-After", "header", false,
                                   {{"type", "string"}, {"pattern", "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"}},
                                   "the Nucleo-Write-Position of an earlier response: read only where that write is "
                                   "visible (with read replicas; docs/operations.md)"));
  if (route.auth == AuthMode::bearer)
    parameters.push_back(parameter("X-Reason", "header", false, {{"type", "string"}, {"maxLength", 1000}},
                                   "why: recorded in the audit trail with the change or read"));
  return parameters;
}

Json request_body_of(const Route& route, const std::string& schema) {
  Json body;
  if (route.kind == "create") body = schema_ref(schema + "Create");
  if (route.kind == "update") body = schema_ref(schema + "Patch");
  if (route.kind == "search") body = schema_ref("Search");
  if (route.kind == "batch") body = schema_ref(schema + "Batch");
  if (!route.request_schema.is_null()) body = route.request_schema;
  if (!route.raw_request_types.empty() && !route.request_schema.is_null()) return route.request_schema;  // complete
  if (!route.raw_request_types.empty()) {
    Json content = Json::object();
    Json bytes = {{"type", "string"}, {"format", "binary"}, {"maxLength", route.raw_request_limit}};
    for (const auto& type : route.raw_request_types) content[type] = {{"schema", bytes}};
    return {{"required", true}, {"content", content}};
  }
  if (route.free_form) {
    // Whatever the caller sends reaches the plugin: JSON on a bearer route, any bytes on
    // a signed or public one (which verifies them itself).
    std::string type = route.auth == AuthMode::bearer ? "application/json" : "*/*";
    return {{"required", false}, {"content", {{type, {{"schema", Json::object()}}}}}};
  }
  if (body.is_null()) return nullptr;
  return {{"required", true}, {"content", json_content(body)}};
}

// The success answer: a record, a page, a batch's results, or what the route declares.
Json success_of(const Route& route, const std::string& schema) {
  Json headers = {{"X-Request-Id", header_ref("X-Request-Id")}};
  if (route.auth == AuthMode::bearer) headers["ETag"] = header_ref("ETag");
  if (route.method == "POST" && route.auth == AuthMode::bearer)
    headers["Idempotent-Replayed"] = header_ref("Idempotent-Replayed");
  if (route.method != "GET" && route.auth == AuthMode::bearer)
    headers["Nucleo-Write-Position"] = header_ref("Nucleo-Write-Position");
  if (route.kind == "list" || route.kind == "search")
    return {{"description", "One page"}, {"headers", headers}, {"content", json_content(schema_ref(schema + "Page"))}};
  if (route.kind == "batch")
    return {{"description", "One result per operation, in order"},
            {"headers", headers},
            {"content", json_content(schema_ref(schema + "BatchResults"))}};
  if (answers_one_record(route)) {
    headers["ETag"] = header_ref("RecordETag");
    if (route.kind == "create") headers["Location"] = header_ref("Location");
    return {{"description", "The record"}, {"headers", headers}, {"content", json_content(schema_ref(schema))}};
  }
  if (route.kind == "export")
    headers["Content-Disposition"] = header_ref("Content-Disposition");
  if (route.answers_location) headers["Location"] = header_ref("Location");
  Json body = route.response_schema.is_null() ? open_object(route.summary) : route.response_schema;
  Json content = Json::object();
  // A document that is not JSON (HTML, Markdown, CSV) is text, whatever the JSON answer's schema.
  auto is_json = [](const std::string& type) {
    return type == "application/json" || (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
  };
  for (const auto& type : route.response_types)
    content[type] = {{"schema", is_json(type) || route.response_types.size() == 1 ? body : Json{{"type", "string"}}}};
  return {{"description", route.summary}, {"headers", headers}, {"content", content}};
}

std::string access_sentence(const Route& route) {
  if (route.access.anyone) return "No API key needed.";
  std::string roles;
  for (const auto& role : route.access.roles) roles += (roles.empty() ? "" : ", ") + role;
  return "Roles: " + roles + ". Integration keys need the scope " + route.access.scope + ".";
}

Json operation_for(const Route& route) {
  bool conditional = is_conditional(route);
  std::string schema = route.entity_type.empty() ? "" : schema_name(route.entity_type);
  Json op = {{"operationId", route.operation_id},
             {"summary", route.summary},
             {"description", route.summary + ". " + access_sentence(route)},
             {"tags", {tag_of(route)}}};
  Json parameters = parameters_of(route, conditional);
  if (!parameters.empty()) op["parameters"] = parameters;
  Json body = request_body_of(route, schema);
  if (!body.is_null()) op["requestBody"] = body;

  Json responses = Json::object();
  if (route.free_form) {
    Json headers = {{"X-Request-Id", header_ref("X-Request-Id")}};
    if (route.method == "POST" && route.auth == AuthMode::bearer)
      headers["Idempotent-Replayed"] = header_ref("Idempotent-Replayed");
    responses["default"] = {{"description", "Whatever the plugin answers"}, {"headers", headers}};
  } else {
    responses[std::to_string(route.success_status)] = success_of(route, schema);
  }
  for (int status : problems_of(route, conditional))
    responses[std::to_string(status)] = {{"$ref", "#/components/responses/Problem" + std::to_string(status)}};
  if (route.html_not_found)
    responses["404"] = {{"description", "Not found: a problem document, or for a browser (Accept: text/html) a page saying why"},
                        {"headers", {{"X-Request-Id", header_ref("X-Request-Id")}}},
                        {"content", {{"application/problem+json", {{"schema", schema_ref("Problem")}}},
                                     {"text/html", {{"schema", {{"type", "string"}}}}}}}};
  op["responses"] = responses;
  if (route.free_form) {
    op["x-nucleo-free-form"] = true;
    op["description"] = op["description"].get<std::string>() +
                        " The plugin does not describe this route: every query parameter and any body reach it.";
  }
  if (route.auth == AuthMode::none) op["security"] = Json::array();
  // Who may call it, as the server enforces it (Router::add; docs/api.md).
  op["x-nucleo-access"] = route.access.anyone ? Json{{"anyone", true}}
                                              : Json{{"roles", route.access.roles}, {"scope", route.access.scope}};
  return op;
}

// /healthz, /readyz and /metrics: served before routing, for orchestrators.
Json operational_paths() {
  Json headers = {{"X-Request-Id", header_ref("X-Request-Id")}};
  auto problems = [](std::initializer_list<int> statuses) {
    Json out = Json::object();
    for (int s : statuses) out[std::to_string(s)] = {{"$ref", "#/components/responses/Problem" + std::to_string(s)}};
    return out;
  };
  auto status_body = [](Json statuses) {
    return Json{{"type", "object"},
                {"required", {"status"}},
                {"properties", {{"status", {{"type", "string"}, {"enum", std::move(statuses)}}},
                                {"detail", {{"type", "string"}}}}}};
  };
  auto op = [&](const std::string& id, const std::string& summary, Json responses) {
    return Json{{"get",
                 {{"operationId", id},
                  {"summary", summary},
                  {"description", summary + ". HEAD is answered too. No API key needed."},
                  {"tags", {"operations"}},
                  {"security", Json::array()},
                  {"x-nucleo-access", {{"anyone", true}}},
                  {"responses", responses}}}};
  };
  Json health = problems({400, 413, 431, 500, 503});
  health["200"] = {{"description", "The process serves HTTP"},
                   {"headers", headers},
                   {"content", json_content(status_body({"ok"}))}};
  Json ready = problems({400, 413, 431, 500, 503});
  Json ready_body = status_body({"ready", "degraded"});
  // Which node answered and what it runs (docs/operations.md): behind a load balancer,
  // the way to tell nodes apart.
  ready_body["properties"]["node"] = {
      {"type", "object"},
      {"required", {"id", "version", "roles", "leases"}},
      {"properties",
       {{"id", {{"type", "string"}, {"description", "node.id: host name:pid unless configured"}}},
        {"version", {{"type", "string"}}},
        {"roles", {{"type", "array"}, {"items", {{"type", "string"}, {"enum", {"audit", "events", "jobs", "imports"}}}}}},
        {"leases",
         {{"type", "object"},
          {"description", "leases held now: event_subscribers, jobs"},
          {"additionalProperties", {{"type", "integer"}, {"minimum", 0}}}}}}}};
  ready["200"] = {{"description", "Ready (degraded: serving, with a detail to look at)"},
                  {"headers", headers},
                  {"content", json_content(ready_body)}};
  Json metrics = problems({400, 413, 431, 500, 503});
  metrics["200"] = {{"description", "Prometheus text exposition format 0.0.4"},
                    {"headers", headers},
                    {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
  return {{"/healthz", op("get_health", "Liveness: the process answers", health)},
          {"/readyz", op("get_readiness", "Readiness: the database answers and migrations are applied", ready)},
          {"/metrics", op("get_metrics", "Metrics in Prometheus text format", metrics)}};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void add_entity_schemas(Json& schemas, const EntitySpec& spec, const services::AttributeSchemas* attributes) {
  std::string name = schema_name(spec.type);
  schemas[name] = entity_schema(spec, attributes);
  schemas[name + "Create"] = entity_write_schema(spec, attributes, true);
  schemas[name + "Patch"] = entity_write_schema(spec, attributes, false);
  schemas[name + "Page"] = page_schema(schema_ref(name));
  schemas[name + "Batch"] = batch_request_schema(name);
  schemas[name + "BatchResults"] = batch_response_schema(name);
  if (spec.reports_duplicates) schemas["Duplicate"] = duplicate_schema();
}

Json tags_for(const std::set<std::string>& used) {
  Json tags = Json::array();
  for (const auto& name : used) {
    auto known = tag_descriptions().find(name);
    tags.push_back({{"name", name},
                    {"description", known != tag_descriptions().end() ? known->second : "Operations on " + name + " records"}});
  }
  return tags;
}

}  // namespace

Json openapi_document(const Router& router, const services::AttributeSchemas* attributes) {
  Json paths = operational_paths();
  Json schemas = {{"Problem", problem_schema()}};
  std::set<std::string> tags{"operations"};
  for (const auto& route : router.routes()) {
    paths[route.path][lower(route.method)] = operation_for(route);
    tags.insert(tag_of(route));
    if (route.kind == "search") schemas["Search"] = search_schema();
    if (!route.entity_type.empty() && !schemas.contains(schema_name(route.entity_type)))
      add_entity_schemas(schemas, entity_spec(route.entity_type), attributes);
  }
  Json server = {{"url", "{scheme}://{host}"},
                 {"description", "A Nucleo server (scripts/run.sh serves http://localhost:8080)"},
                 {"variables",
                  {{"scheme", {{"enum", {"http", "https"}}, {"default", "http"}}},
                   {"host", {{"default", "localhost:8080"}, {"description", "host[:port]"}}}}}};
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "Nucleo API"},
            {"version", nucleo_version},
            {"description",
             "The CRM kernel's HTTP API. Conventions: docs/api.md. A path the server does not know answers 404; "
             "a method a path does not take answers 405 with Allow. Both are application/problem+json."},
            {"contact", {{"name", "Nucleo maintainers"}}},
            {"license", {{"name", "Apache-2.0"}, {"identifier", "Apache-2.0"}}}}},
          {"servers", Json::array({server})},
          // An API key, or a person's session cookie (with X-CSRF-Token on writes: ADR 0046).
          {"security", {{{"bearer", Json::array()}}, {{"session", Json::array()}}}},
          {"tags", tags_for(tags)},
          {"paths", paths},
          {"components",
           {{"schemas", schemas},
            {"headers", headers_component()},
            {"responses", problem_responses_component()},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "nuc_… API key"}}},
              {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "nucleo_session"},
                           {"description", "a person's session, opened by POST /v1/sessions; POST, PUT, PATCH and "
                                           "DELETE also carry its X-CSRF-Token header"}}}}}}}};
}

void add_openapi_route(Router& router, const services::AttributeSchemas* attributes) {
  // Built once, on first request: plugins have declared everything by then.
  auto document = std::make_shared<std::pair<std::once_flag, std::string>>();
  router.add(answering({"GET",
                        "/v1/openapi.json",
                        "get_openapi",
                        "This API's OpenAPI 3.1 description",
                        AuthMode::none,
                        "",
                        "document",
                        {},
                        [&router, attributes, document](ApiRequest&) {
                          std::call_once(document->first,
                                         [&] { document->second = openapi_document(router, attributes).dump(); });
                          ApiResponse r;
                          r.raw_body = document->second;
                          return r;
                        }},
                       200, open_object("An OpenAPI 3.1 document")),
             Access::of_anyone());
}

}  // namespace nucleo::http
