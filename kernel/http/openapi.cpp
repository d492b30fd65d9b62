#include "kernel/http/openapi.hpp"

#include <mutex>

#include "kernel/domain/version.hpp"
#include "kernel/http/resources.hpp"

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

Json field_schema(const FieldSpec& f) {
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
      s = {{"type", "string"}, {"pattern", "^" + entity_spec(f.target).prefix + "_[0-9a-z]{26}$"}};
      break;
    case FieldType::email:
      s = {{"type", "string"}, {"format", "email"}};
      break;
    case FieldType::phone:
      s = {{"type", "string"}, {"description", "E.164 after normalisation"}};
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
      s = {{"type", "object"}};
      break;
    case FieldType::array:
      s = {{"type", "array"}};
      break;
  }
  if (!f.required && s.contains("type")) s["type"] = Json::array({s["type"], "null"});
  if (f.derived) s["readOnly"] = true;
  return s;
}

Json entity_schema(const EntitySpec& spec, const services::AttributeSchemas* attributes) {
  Json properties = {
      {"id", {{"type", "string"}, {"readOnly", true}, {"pattern", "^" + spec.prefix + "_[0-9a-z]{26}$"}}},
      {"tenant_id", {{"type", "string"}, {"readOnly", true}}},
      {"version", {{"type", "integer"}, {"readOnly", true}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}},
      {"updated_at", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}},
      {"archived_at", {{"type", {"string", "null"}}, {"format", "date-time"}, {"readOnly", true}}}};
  Json required = Json::array();
  for (const auto& f : spec.fields) {
    if (f.hidden) continue;
    properties[f.name] = field_schema(f);
    if (f.required) required.push_back(f.name);
  }
  if (spec.has_attributes) {
    properties["attributes"] = {{"type", "object"},
                                {"description", "plugin-declared attributes, namespaced \"<namespace>.<key>\""}};
    Json declared = attributes ? attributes->declared(spec.type) : Json::object();
    Json needed = Json::array();
    for (auto& [key, rule] : declared.items()) {
      if (rule.value("required", false)) needed.push_back(key);
      rule.erase("required");  // JSON Schema says it on the object
    }
    if (!declared.empty()) properties["attributes"]["properties"] = declared;
    if (!needed.empty()) properties["attributes"]["required"] = needed;
  }
  return {{"type", "object"},
          {"description", "A " + spec.type + ". Fields marked readOnly are set by Nucleo."},
          {"properties", properties},
          {"required", required},
          {"additionalProperties", false}};
}

Json problem_schema() {
  Json string = {{"type", "string"}};
  Json field_error = {{"type", "object"}, {"properties", {{"field", string}, {"message", string}}}};
  Json properties = {
      {"type", string},   {"title", string},      {"status", {{"type", "integer"}}},
      {"detail", string}, {"request_id", string}, {"errors", {{"type", "array"}, {"items", field_error}}}};
  return {{"type", "object"},
          {"description", "RFC 9457 problem details"},
          {"properties", properties},
          {"required", {"type", "title", "status", "detail", "request_id", "errors"}}};
}

Json search_schema() {
  Json filter = {
      {"type", "object"},
      {"required", {"field", "op"}},
      {"properties",
       {{"field", {{"type", "string"}, {"description", "a field, or attributes.<key>"}}},
        {"op", {{"type", "string"}, {"enum", {"eq", "neq", "lt", "lte", "gt", "gte", "in", "contains", "exists"}}}},
        {"value", Json::object({{"description", "scalar; array for in; boolean for exists"}})}}}};
  Json group = {{"type", "object"},
                {"properties", {{"filters", {{"type", "array"}, {"maxItems", 20}, {"items", filter}}}}}};
  Json sort = {{"type", "object"},
               {"properties",
                {{"field", {{"type", "string"}}}, {"direction", {{"type", "string"}, {"enum", {"asc", "desc"}}}}}}};
  Json properties = Json::object();
  properties["filter_groups"] = {{"type", "array"}, {"maxItems", 10}, {"items", group}};
  properties["sort"] = {{"type", "array"}, {"maxItems", 1}, {"items", sort}};
  properties["limit"] = {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}};
  properties["cursor"] = Json::object({{"type", "string"}});
  return {
      {"type", "object"},
      {"description", "Groups are OR-ed; the filters of a group are AND-ed. contains is case- and accent-insensitive."},
      {"properties", properties}};
}

Json json_content(const Json& schema) {
  return {{"application/json", {{"schema", schema}}}};
}

Json problem_responses() {
  Json problem = {{"application/problem+json", {{"schema", schema_ref("Problem")}}}};
  return {{"400", {{"description", "Malformed request"}, {"content", problem}}},
          {"401", {{"description", "Missing or invalid API key"}, {"content", problem}}},
          {"403", {{"description", "The key's role or scopes do not allow this"}, {"content", problem}}},
          {"404", {{"description", "No such record in this tenant"}, {"content", problem}}},
          {"409", {{"description", "Conflicts with the record's state (named in detail)"}, {"content", problem}}},
          {"422", {{"description", "Invalid fields, named in errors[]"}, {"content", problem}}},
          {"429", {{"description", "Rate limit exceeded; see Retry-After"}, {"content", problem}}}};
}

// The generic protocol's answers that are one record of the route's entity.
bool is_record_kind(const std::string& kind) {
  return kind == "create" || kind == "read" || kind == "update" || kind == "archive" || kind == "restore" ||
         kind == "action";
}

Json operation_for(const Route& route) {
  Json op = {{"operationId", route.operation_id}, {"summary", route.summary}, {"tags", Json::array()}};
  Json parameters = Json::array();
  for (auto open = route.path.find('{'); open != std::string::npos; open = route.path.find('{', open + 1)) {
    std::string name = route.path.substr(open + 1, route.path.find('}', open) - open - 1);
    parameters.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  for (const auto& q : route.query_parameters)
    parameters.push_back({{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
  if (route.kind == "update" || route.kind == "archive" || route.kind == "restore" || route.kind == "action")
    parameters.push_back({{"name", "If-Match"},
                          {"in", "header"},
                          {"required", false},
                          {"description", "the ETag (version) last read; 412 when it moved on"},
                          {"schema", {{"type", "string"}}}});
  if (route.method == "POST" && route.auth == AuthMode::bearer)
    parameters.push_back({{"name", "Idempotency-Key"},
                          {"in", "header"},
                          {"required", false},
                          {"description", "replays the stored response for 24 h"},
                          {"schema", {{"type", "string"}, {"maxLength", 255}}}});
  if (!parameters.empty()) op["parameters"] = parameters;

  std::string schema = route.entity_type.empty() ? "" : schema_name(route.entity_type);
  if (!schema.empty()) op["tags"].push_back(route.entity_type);
  if (route.kind == "create" || route.kind == "update")
    op["requestBody"] = {{"required", true}, {"content", json_content(schema_ref(schema))}};
  if (route.kind == "search") op["requestBody"] = {{"required", true}, {"content", json_content(schema_ref("Search"))}};
  if (!route.request_schema.is_null())
    op["requestBody"] = {{"required", true}, {"content", json_content(route.request_schema)}};

  Json responses = route.auth == AuthMode::bearer ? problem_responses() : Json::object();
  if (route.kind == "list" || route.kind == "search") {
    responses["200"] = {{"description", "One page"},
                        {"content", json_content({{"type", "object"},
                                                  {"properties",
                                                   {{"data", {{"type", "array"}, {"items", schema_ref(schema)}}},
                                                    {"next_cursor", {{"type", {"string", "null"}}}}}}})}};
  } else if (route.kind == "batch") {
    Json result = {
        {"type", "object"},
        {"properties",
         {{"status", {{"type", "integer"}}}, {"data", schema_ref(schema)}, {"problem", schema_ref("Problem")}}}};
    Json properties = Json::object();
    properties["results"] = {{"type", "array"}, {"items", result}};
    responses["200"] = {{"description", "One result per operation, in order"},
                        {"content", json_content({{"type", "object"}, {"properties", properties}})}};
  } else if (route.kind == "plugin") {
    responses["default"] = {{"description", "Whatever the plugin answers"}};
  } else if (is_record_kind(route.kind)) {
    responses[std::to_string(route.success_status)] = {{"description", "The record"},
                                                       {"content", json_content(schema_ref(schema))}};
  } else {
    // Everything else says what it answers (Route::success_status, response_types,
    // response_schema).
    Json body = route.response_schema.is_null() ? Json{{"type", "object"}} : route.response_schema;
    Json content = Json::object();
    for (const auto& type : route.response_types) content[type] = {{"schema", body}};
    responses[std::to_string(route.success_status)] = {{"description", route.summary}, {"content", content}};
  }
  op["responses"] = responses;
  if (route.auth == AuthMode::none) op["security"] = Json::array();
  // Who may call it, as the server enforces it (Router::add; docs/api.md).
  op["x-nucleo-access"] = route.access.anyone ? Json{{"anyone", true}}
                                              : Json{{"roles", route.access.roles}, {"scope", route.access.scope}};
  if (op["tags"].empty()) op.erase("tags");
  return op;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Json openapi_document(const Router& router, const services::AttributeSchemas* attributes) {
  Json paths = Json::object();
  Json schemas = {{"Problem", problem_schema()}, {"Search", search_schema()}};
  Json tags = Json::array();
  for (const auto& route : router.routes()) {
    paths[route.path][lower(route.method)] = operation_for(route);
    if (!route.entity_type.empty() && !schemas.contains(schema_name(route.entity_type))) {
      schemas[schema_name(route.entity_type)] = entity_schema(entity_spec(route.entity_type), attributes);
      tags.push_back({{"name", route.entity_type}, {"description", "Operations on " + route.entity_type + " records"}});
    }
  }
  return {{"openapi", "3.1.0"},
          {"info",
           {{"title", "Nucleo API"},
            {"version", nucleo_version},
            {"description", "The CRM kernel's HTTP API. Conventions: docs/api.md."},
            {"license", {{"name", "Apache-2.0"}, {"identifier", "Apache-2.0"}}}}},
          {"servers", Json::array({Json::object({{"url", "/"}})})},
          {"security", {{{"bearer", Json::array()}}}},
          {"tags", tags},
          {"paths", paths},
          {"components",
           {{"schemas", schemas},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "nuc_… API key"}}}}}}}};
}

void add_openapi_route(Router& router, const services::AttributeSchemas* attributes) {
  // Built once, on first request: plugins have declared everything by then.
  auto document = std::make_shared<std::pair<std::once_flag, std::string>>();
  router.add({"GET",
              "/v1/openapi.json",
              "get_openapi",
              "This API's OpenAPI 3.1 description",
              AuthMode::none,
              "",
              "document",
              {},
              [&router, attributes, document](ApiRequest&) {
                std::call_once(document->first, [&] { document->second = openapi_document(router, attributes).dump(); });
                ApiResponse r;
                r.raw_body = document->second;
                return r;
              }}, Access::of_anyone());
}

}  // namespace nucleo::http
