// API keys over HTTP (docs/api.md "API keys"): an admin lists, creates — the secret shown
// once — and revokes them, as `nucleo key` does on the command line. A caller bound by
// scopes (an integration key, also On-Behalf-Of) may only mint integration keys whose
// scopes it holds itself: no key ever does more than the one that made it.
#include "kernel/domain/entity.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/principal.hpp"

namespace nucleo::http {
namespace {

Json key_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json nullable_time = {{"type", {"string", "null"}}, {"format", "date-time"}};
  return {{"type", "object"},
          {"required", {"id", "tenant_id", "name", "role", "scopes", "user_id", "integration", "expires_at", "revoked_at",
                        "last_used_at"}},
          {"properties",
           {{"id", text}, {"tenant_id", text}, {"name", text}, {"role", text}, {"scopes", {{"type", "array"}, {"items", text}}},
            {"user_id", nullable_text}, {"integration", {{"type", "boolean"}}}, {"expires_at", nullable_time},
            {"revoked_at", nullable_time}, {"last_used_at", nullable_time}}}};
}

// What a key shows: its own fields, never its secret's hash.
Json shown(const Json& key) {
  Json out = Json::object();
  for (const char* field : {"id", "tenant_id", "name", "role", "scopes", "user_id", "integration", "expires_at", "revoked_at",
                            "last_used_at", "version", "created_at", "updated_at"})
    out[field] = key.value(field, Json());
  return out;
}

// A caller bound by scopes makes integration keys within its own scopes, nothing more.
void check_within_caller(const ApiRequest& req, const Json& input) {
  const services::Principal* caller = req.ctx.principal.get();
  if (!caller || !caller->scopes_apply) return;
  if (!input.value("integration", false))
    throw Error(ErrorCode::forbidden, "a key bound by scopes may create only integration keys (\"integration\": true)");
  for (const auto& scope : input.value("scopes", Json::array())) {
    std::string text = scope.is_string() ? scope.get<std::string>() : "";
    auto colon = text.find(':');
    if (text.empty() || !services::scopes_grant(caller->scopes, text.substr(0, colon),
                                                colon == std::string::npos ? "" : text.substr(colon + 1)))
      throw Error(ErrorCode::forbidden, "API key " + caller->key_id + " may not grant scope " + scope.dump() +
                                            ", which it does not hold itself");
  }
}

}  // namespace

void add_key_routes(Router& router, services::ServiceDependencies deps) {
  router.add(answering({"GET", "/v1/keys", "list_keys", "The tenant's API keys, revoked ones included (never a secret)",
                        AuthMode::bearer, "", "keys", {},
                        [=](ApiRequest& req) {
                          Json data = Json::array();
                          for (const auto& key : services::ApiKeyService(deps).list(req.ctx)) data.push_back(shown(key));
                          ApiResponse r;
                          r.body = {{"data", data}};
                          return r;
                        }},
                       200, {{"type", "object"}, {"required", {"data"}},
                             {"properties", {{"data", {{"type", "array"}, {"items", key_schema()}}}}}}),
             Access::of_roles({"admin", "auditor"}, "api_keys:read"));
  router.add(answering({"POST", "/v1/keys", "create_key",
                        "Create an API key: a user's (its role within the user's) or an integration's (scopes); the "
                        "secret is answered once and never again",
                        AuthMode::bearer, "", "key_created", {},
                        [=](ApiRequest& req) {
                          Json input = req.json_object();
                          check_within_caller(req, input);
                          auto created = services::ApiKeyService(deps).create(req.ctx, input);
                          ApiResponse r;
                          r.status = 201;
                          r.body = {{"key", shown(created.key)}, {"secret", created.secret}};
                          r.headers["Cache-Control"] = "no-store";
                          return r;
                        },
                        {{"type", "object"},
                         {"required", {"name", "role"}},
                         {"properties",
                          {{"name", {{"type", "string"}, {"maxLength", 200}}},
                           {"role", {{"type", "string"}}},
                           {"scopes", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                           {"user_id", {{"type", "string"}}},
                           {"integration", {{"type", "boolean"}}},
                           {"expires_at", {{"type", "string"}, {"format", "date-time"}}}}},
                         {"additionalProperties", false}}},
                       201, {{"type", "object"}, {"required", {"key", "secret"}},
                             {"properties", {{"key", key_schema()},
                                             {"secret", {{"type", "string"}, {"description", "shown once: store it now"}}}}}}),
             Access::of_roles({"admin"}, "api_keys:write"));
  router.add(answering({"POST", "/v1/keys/{id}/revoke", "revoke_key",
                        "Revoke an API key: refused from its next request on, on every node within auth.cache_seconds",
                        AuthMode::bearer, "", "key", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = shown(services::ApiKeyService(deps).revoke(req.ctx, req.params.at("id")).record);
                          return r;
                        }},
                       200, key_schema()),
             Access::of_roles({"admin"}, "api_keys:write"));
}

}  // namespace nucleo::http
