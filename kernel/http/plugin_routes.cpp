#include "kernel/http/plugin_routes.hpp"

#include <Poco/Logger.h>
#include <Poco/String.h>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/value_schema.hpp"
#include "kernel/plugins/abi_status.hpp"
#include "kernel/plugins/plugin_call.hpp"
#include "kernel/plugins/call.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/plugin_service.hpp"
#include "kernel/services/plugin_settings_service.hpp"
#include "kernel/http/route_helpers.hpp"

namespace nucleo::http {

using plugins::PluginHost;
using plugins::RegisteredRoute;
namespace {

Json plugin_list(const PluginHost& host) {
  Json data = Json::array();
  for (const auto& s : host.statuses())
    data.push_back({{"alias", s.alias},
                    {"file", s.file},
                    {"id", s.id.empty() ? Json() : Json(s.id)},
                    {"version", s.version.empty() ? Json() : Json(s.version)},
                    {"loaded", s.loaded},
                    {"problem", s.problem.empty() ? Json() : Json(s.problem)}});
  return {{"data", data}, {"safe_mode", host.safe_mode()}};
}

// The request as plugin_abi.h describes it for nucleo_route_fn. A bearer route's
// plugin never sees the caller's credentials.
Json request_for_plugin(const ApiRequest& req, const RegisteredRoute& route) {
  Json headers = Json::object();
  for (const auto& [name, value] : req.headers) {
    std::string lower = Poco::toLower(name);
    if (route.auth == NUCLEO_AUTH_BEARER && (lower == "authorization" || lower == "cookie")) continue;
    headers[lower] = value;
  }
  Json params(req.params), query(req.query);
  Json r = {{"method", req.method}, {"path", req.path},   {"params", params},
            {"query", query},       {"headers", headers}, {"request_id", req.request_id}};
  bool raw = route.description && !route.description->raw_types.empty();
  if (route.auth == NUCLEO_AUTH_BEARER && raw) {
    r["body"] = nullptr;
    r["body_base64"] = to_base64(req.body);
  }
  if (route.auth == NUCLEO_AUTH_BEARER) {
    if (!raw) r["body"] = req.body.empty() ? Json() : req.json();
    r["tenant_id"] = req.ctx.tenant_id;
    r["actor"] = req.ctx.actor.to_json();
    r["caller"] = plugins::caller_json(req.ctx);
  } else {
    r["body"] = to_base64(req.body);
    r["tenant_id"] = nullptr;
    r["actor"] = nullptr;
  }
  return r;
}

// A status other than NUCLEO_OK: the plugin's own words for client mistakes, a logged
// message and a bare 500 for its failures.
[[noreturn]] void refuse(const RegisteredRoute& route, nucleo_status status, const std::string& message,
                         const std::string& request_id) {
  ErrorCode code = plugins::error_code_of(status).value_or(ErrorCode::internal);
  if (code != ErrorCode::internal) throw Error(code, message);
  Poco::Logger::get("nucleo.plugins." + route.plugin_id)
      .error("request %s: %s %s failed (status %d): %s", request_id, route.method, route.path, int(status), message);
  throw Error(ErrorCode::internal, "plugin " + route.plugin_id + " failed");
}

ApiResponse response_from_plugin(const RegisteredRoute& route, const std::string& text,
                                       const std::string& request_id) {
  auto invalid = [&](const std::string& why) -> ApiResponse {
    Poco::Logger::get("nucleo.plugins." + route.plugin_id)
        .error("request %s: %s %s answered an invalid response: %s", request_id, route.method, route.path, why);
    throw Error(ErrorCode::internal, "plugin " + route.plugin_id + " answered an invalid response");
  };
  Json answer = Json::parse(text, nullptr, false);
  if (!answer.is_object()) return invalid("not a JSON object");
  ApiResponse r;
  Json status = answer.value("status", Json(200));
  if (!status.is_number_integer() || status.get<int>() < 200 || status.get<int>() > 599)
    return invalid("\"status\" must be an integer from 200 to 599");
  r.status = status.get<int>();
  Json headers = answer.value("headers", Json::object());
  if (!headers.is_object()) return invalid("\"headers\" must be an object");
  for (const auto& [name, value] : headers.items()) {
    if (!value.is_string()) return invalid("header " + name + " must be a string");
    if (Poco::icompare(name, "Content-Type") == 0) r.content_type = value.get<std::string>();
    else r.headers[name] = value.get<std::string>();
  }
  if (answer.contains("body_base64")) {
    auto bytes = answer["body_base64"].is_string() ? from_base64(answer["body_base64"].get<std::string>()) : std::nullopt;
    if (!bytes) return invalid("\"body_base64\" is not base64");
    r.raw_body = *bytes;
    if (!headers.contains("Content-Type")) r.content_type = "application/octet-stream";
  } else {
    r.body = answer.value("body", Json());
  }
  return r;
}

// A bearer route of a plugin is open to every role (the plugin applies its own rules,
// and every kernel call it makes is held to the caller's); an integration key needs a
// scope naming the plugin: "<plugin id>:read" for GET, "<plugin id>:write" otherwise.
// Signed and public routes carry no credential: the plugin verifies them itself.
Access access_of(const RegisteredRoute& route) {
  if (route.auth != NUCLEO_AUTH_BEARER) return Access::of_anyone();
  return Access::of_roles(services::every_role(), route.plugin_id + (route.method == "GET" ? ":read" : ":write"));
}

Route mounted(const RegisteredRoute& route) {
  Route r;
  r.method = route.method;
  r.path = "/v1/x/" + route.plugin_id + (route.path.empty() || route.path[0] != '/' ? "/" : "") + route.path;
  r.operation_id = "x_" + route.plugin_id + "_" + route.method + route.path;
  for (char& c : r.operation_id)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  r.summary = "Served by plugin " + route.plugin_id;
  r.auth = route.auth == NUCLEO_AUTH_BEARER ? AuthMode::bearer : AuthMode::none;
  r.kind = "plugin";
  r.free_form = !route.description;
  std::shared_ptr<const ValueSchema> body_schema;
  if (const auto& d = route.description) {
    r.summary = d->summary.empty() ? r.summary : d->summary + " (plugin " + route.plugin_id + ")";
    r.query_parameters = d->query;
    r.request_schema = d->request;
    r.success_status = d->status;
    r.response_schema = d->response.is_null() ? Json{{"type", "object"}, {"additionalProperties", true}} : d->response;
    if (!d->response_type.empty()) {
      // Bytes of that type; a JSON-based type (application/fhir+json) is a JSON document,
      // described by `response` when the plugin gives one.
      r.response_types = {d->response_type};
      const std::string& type = d->response_type;
      bool json_based = type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0;
      if (!json_based) r.response_schema = {{"type", "string"}};
    }
    r.raw_request_types = d->raw_types;
    r.raw_request_limit = d->raw_max_bytes;
    if (!d->request.is_null()) body_schema = std::make_shared<const ValueSchema>(d->request, std::set<std::string>{});
  }
  r.handler = [route, body_schema](ApiRequest& req) {
    // A described route's body, held to its schema before the plugin sees it (422 naming
    // each problem by its path in the body).
    if (body_schema) body_schema->require(req.json(), "body", "invalid body");
    nucleo_call call{req.ctx};
    if (route.auth != NUCLEO_AUTH_BEARER) {
      // No key, no tenant: the plugin acts as itself until channels.resolve names the
      // channel account (and so the tenant) the request is for.
      call.ctx.tenant_id.clear();
      call.ctx.actor = {"plugin", route.plugin_id, ""};
      call.ctx.principal = nullptr;
    }
    auto answer = plugins::call_registered(route, route.handler, &call, to_json_text(request_for_plugin(req, route)));
    if (!answer.ok()) refuse(route, answer.status, answer.text, req.request_id);
    return response_from_plugin(route, answer.text, req.request_id);
  };
  return r;
}

// The settings of a loaded plugin that declares some; 404 otherwise.
services::PluginSettingsService settings_of(const PluginHost& host, services::ServiceDependencies deps,
                                            const std::string& plugin_id) {
  const plugins::Manifest* m = host.loaded_manifest(plugin_id);
  if (!m) throw Error(ErrorCode::not_found, "no plugin " + plugin_id + " is loaded (GET /v1/plugins)");
  if (m->tenant_settings.empty())
    throw Error(ErrorCode::not_found, "plugin " + plugin_id + " declares no tenant settings (plugin.json tenant_settings)");
  return services::PluginSettingsService(deps, plugin_id, m->tenant_settings);
}

Json settings_schema() {
  return {{"type", "object"},
          {"required", {"plugin_id", "settings", "secret_names", "version", "updated_at"}},
          {"properties",
           {{"plugin_id", {{"type", "string"}}},
            {"settings", {{"type", "object"}, {"additionalProperties", true}}},
            {"secret_names", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"version", {{"type", "integer"}, {"minimum", 0}}},
            {"updated_at", {{"type", {"string", "null"}}, {"format", "date-time"}}}}},
          {"additionalProperties", false}};
}

void add_settings_routes(Router& router, const PluginHost& host, services::ServiceDependencies deps) {
  const std::string path = "/v1/plugins/{id}/settings";
  Route read{"GET", path, "get_plugin_settings",
             "A plugin's settings for this tenant, secrets by name only (admin, auditor)", AuthMode::bearer, "",
             "plugins", {}, [&host, deps](ApiRequest& req) {
               return record_response(settings_of(host, deps, req.params.at("id")).get(req.ctx));
             }};
  router.add(answering(std::move(read), 200, settings_schema()), Access::of_roles({"admin", "auditor"}, "plugins:read"));
  Json body = {{"type", "object"},
               {"properties",
                {{"settings", {{"type", "object"}, {"additionalProperties", true}}},
                 {"secrets", {{"type", "object"}, {"additionalProperties", {{"type", {"string", "null"}}}}}}}},
               {"additionalProperties", false}};
  Route write{"PUT", path, "set_plugin_settings",
              "Set a plugin's settings for this tenant: settings replaced, the named secrets set (null removes "
              "one), checked against plugin.json tenant_settings (If-Match; admin)",
              AuthMode::bearer, "", "plugins", {}, [&host, deps](ApiRequest& req) {
                return record_response(
                    settings_of(host, deps, req.params.at("id")).put(req.ctx, req.json(), expected_version(req)));
              },
              body};
  router.add(answering(honouring_if_match(std::move(write)), 200, settings_schema()),
             Access::of_roles({"admin"}, "plugins:write"));
}

}  // namespace

void add_plugin_routes(Router& router, const PluginHost& host, services::ServiceDependencies deps) {
  Route list;
  list.method = "GET";
  list.path = "/v1/plugins";
  list.operation_id = "list_plugins";
  list.summary = "The configured plugins: loaded, or why not (admin and auditor)";
  list.kind = "plugins";
  list.handler = [&host](ApiRequest& req) {
    services::PluginService::require_reader(req.ctx);
    ApiResponse r;
    r.body = plugin_list(host);
    return r;
  };
  Json nullable_text = {{"type", {"string", "null"}}};
  Json status = {{"type", "object"},
                 {"required", {"alias", "file", "id", "version", "loaded", "problem"}},
                 {"properties",
                  {{"alias", {{"type", "string"}}},
                   {"file", {{"type", "string"}}},
                   {"id", nullable_text},
                   {"version", nullable_text},
                   {"loaded", {{"type", "boolean"}}},
                   {"problem", nullable_text}}},
                 {"additionalProperties", false}};
  list.response_schema = {{"type", "object"},
                          {"required", {"data", "safe_mode"}},
                          {"properties",
                           {{"data", {{"type", "array"}, {"items", status}}}, {"safe_mode", {{"type", "boolean"}}}}},
                          {"additionalProperties", false}};
  router.add(std::move(list), Access::of_roles({"admin", "auditor"}, "plugins:read"));
  add_settings_routes(router, host, deps);
  for (const auto& route : host.routes()) router.add(mounted(route), access_of(route));
}

}  // namespace nucleo::http
