// People's sign-in (ADR 0046, docs/api.md "Signing in (people)"): a password opens a browser session held
// in an HttpOnly cookie; the server accepts the cookie wherever it accepts an API key,
// with a CSRF token on every state-changing request (server.cpp).
#include "kernel/domain/id.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/sign_in_service.hpp"

namespace nucleo::http {
namespace {

const char* const session_cookie = "nucleo_session";

// HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it;
// Secure when people reach the deployment over TLS (http.public_url is https).
std::string cookie(const services::ServiceDependencies& deps, const std::string& value, std::int64_t max_age_seconds) {
  std::string c = std::string(session_cookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                  std::to_string(max_age_seconds);
  if (deps.public_url.rfind("https://", 0) == 0) c += "; Secure";
  return c;
}

std::string string_member(const Json& body, const std::string& name, bool required = true) {
  const Json& v = body.value(name, Json());
  if (v.is_null() && !required) return "";
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    throw Error(ErrorCode::validation, name + " is required, a non-empty string", {{name, "is required"}});
  return v;
}

Json session_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"session", "csrf_token"}},
          {"properties",
           {{"session", {{"type", "object"},
                         {"required", {"id", "user_id", "role", "expires_at"}},
                         {"properties", {{"id", text}, {"user_id", text}, {"role", text},
                                         {"expires_at", {{"type", "string"}, {"format", "date-time"}}}}},
                         {"additionalProperties", false}}},
            {"csrf_token", {{"type", "string"},
                            {"description", "send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE made with "
                                            "the session cookie"}}}}},
          {"additionalProperties", false}};
}

const std::vector<std::string> people = {"admin", "manager", "sales", "support", "marketing", "auditor"};

std::vector<std::string> people_and(const std::string& also) {
  std::vector<std::string> roles = people;
  roles.push_back(also);
  return roles;
}

}  // namespace

void add_session_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  const services::SignInSettings sign_in = settings.sign_in;
  Route open{"POST", "/v1/sessions", "sign_in",
             "Sign in with an e-mail and password: a session cookie (HttpOnly, SameSite=Strict) and the CSRF token "
             "its state-changing requests carry as X-CSRF-Token",
             AuthMode::none, "", "sign_in", {},
             [=](ApiRequest& req) {
               Json body = req.json_object();
               std::string tenant = string_member(body, "tenant_id");
               if (!is_valid_id(tenant, id_prefix::tenant))
                 throw Error(ErrorCode::validation, "tenant_id is not a tenant id", {{"tenant_id", "not a tenant id"}});
               req.ctx.tenant_id = tenant;
               auto opened = services::SignInService(deps, sign_in)
                                 .sign_in(req.ctx, string_member(body, "email"), string_member(body, "password"));
               ApiResponse r;
               r.status = 201;
               r.body = {{"session", opened.session}, {"csrf_token", opened.csrf_token}};
               r.headers["Set-Cookie"] = cookie(deps, opened.secret, sign_in.session_hours * 3600);
               r.headers["Cache-Control"] = "no-store";
               return r;
             },
             Json{{"type", "object"},
                  {"required", {"tenant_id", "email", "password"}},
                  {"properties", {{"tenant_id", {{"type", "string"}}}, {"email", {{"type", "string"}}},
                                  {"password", {{"type", "string"}, {"format", "password"}}}}},
                  {"additionalProperties", false}}};
  open.checks_credentials = true;
  open.extra_problems = {401, 422, 429};
  router.add(answering(open, 201, session_schema()), Access::of_anyone());

  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  router.add(answering({"GET", "/v1/sessions/current", "current_session",
              "Who the call acts as: tenant, user and role, and the session's expiry when made with a session cookie "
              "(null with an API key)",
              AuthMode::bearer, "", "session", {},
              [=](ApiRequest& req) {
                auto expires = services::SignInService(deps, sign_in).session_expiry(req.ctx);
                const auto& who = *req.ctx.principal;
                ApiResponse r;
                r.body = {{"tenant_id", req.ctx.tenant_id},
                          {"user_id", who.user_id.empty() ? Json() : Json(who.user_id)},
                          {"role", who.role},
                          {"session_id", expires ? Json(who.key_id) : Json()},
                          {"expires_at", expires ? Json(format_rfc3339(Timestamp{*expires})) : Json()}};
                return r;
              }},
             200, {{"type", "object"},
                   {"required", {"tenant_id", "user_id", "role", "session_id", "expires_at"}},
                   {"properties", {{"tenant_id", text}, {"user_id", nullable_text}, {"role", text},
                                   {"session_id", nullable_text}, {"expires_at", nullable_text}}},
                   {"additionalProperties", false}}),
             Access::of_roles(people_and("integration"), "sessions:read"));

  auto counted = [](const char* name) {
    return Json{{"type", "object"}, {"required", {name}}, {"properties", {{name, {{"type", "integer"}, {"minimum", 0}}}}},
                {"additionalProperties", false}};
  };
  auto done = [](const char* name) {
    return Json{{"type", "object"}, {"required", {name}}, {"properties", {{name, {{"const", true}}}}},
                {"additionalProperties", false}};
  };
  router.add(answering({"DELETE", "/v1/sessions/current", "sign_out",
              "Sign out: the session the call was made with ends, here and on every node (404 with an API key)",
              AuthMode::bearer, "", "sign_out", {},
              [=](ApiRequest& req) {
                services::SignInService(deps, sign_in).sign_out(req.ctx);
                ApiResponse r;
                r.body = {{"signed_out", true}};
                r.headers["Set-Cookie"] = cookie(deps, "", 0);
                return r;
              }},
             200, done("signed_out")),
             Access::of_roles(people, "sessions:write"));

  router.add(answering({"DELETE", "/v1/users/{id}/sessions", "sign_out_everywhere",
              "Sign a user out of every session (yourself; an admin or an integration key, anyone): their cookies "
              "stop working at their next request",
              AuthMode::bearer, "user", "sign_out_everywhere", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.body = {{"sessions_signed_out",
                           services::SignInService(deps, sign_in).sign_out_everywhere(req.ctx, req.params.at("id"))}};
                return r;
              }},
             200, counted("sessions_signed_out")),
             Access::of_roles(people_and("integration"), "users:write"));

  router.add(answering({"PUT", "/v1/users/{id}/password", "set_password",
              "Set a password: your own with current_password, or (an admin or an integration key) reset another "
              "user's; the user's other sessions are signed out",
              AuthMode::bearer, "user", "password", {},
              [=](ApiRequest& req) {
                // Read leniently: the service says "no such user" (404) before it judges the
                // password, as every route answers another tenant's record.
                Json body = req.json_object();
                const Json& given = body.value("password", Json());
                std::optional<std::string> current;
                if (body.contains("current_password")) current = string_member(body, "current_password");
                ApiResponse r;
                services::SignInService(deps, sign_in)
                    .set_password(req.ctx, req.params.at("id"), given.is_string() ? given.get<std::string>() : "", current);
                r.body = {{"password_set", true}};
                return r;
              },
              Json{{"type", "object"},
                   {"required", {"password"}},
                   {"properties", {{"password", {{"type", "string"}, {"format", "password"}}},
                                   {"current_password", {{"type", "string"}, {"format", "password"}}}}},
                   {"additionalProperties", false}}},
             200, done("password_set")),
             Access::of_roles(people_and("integration"), "users:write"));
}

}  // namespace nucleo::http
