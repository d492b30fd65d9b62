#pragma once

#include <Poco/Net/NameValueCollection.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/call_context.hpp"

namespace nucleo::http {

// One request as handlers see it: routing done, caller authenticated, body read.
struct ApiRequest {
  const Poco::Net::NameValueCollection& headers;  // case-insensitive names
  std::string method;
  std::string path;
  std::map<std::string, std::string> params;  // from the path template: {id}
  std::map<std::string, std::string> query;
  std::string body;
  std::string request_id;
  services::CallContext ctx;
  std::size_t json_depth_limit = 32;

  // The body as JSON (any value); malformed JSON, invalid UTF-8 or nesting deeper than
  // the limit → Error(validation) with status 400 semantics (see Server).
  Json json() const;
  // json(), which must be an object: else Error(validation) (422), never a type error later.
  Json json_object() const;
  std::string header(const std::string& name) const { return headers.get(name, ""); }
};

// Writes one piece of a streamed body; false once the client has gone.
using BodyWriter = std::function<bool(std::string_view)>;

struct ApiResponse {
  int status = 200;
  Json body;
  std::string content_type = "application/json";
  std::string raw_body;  // used instead of `body` when non-empty (openapi, replays)
  std::map<std::string, std::string> headers;
  // When set, the body is produced by this after the headers are sent, with chunked
  // transfer encoding (exports of any size). Check everything a client can get wrong
  // before returning it: once streaming starts the status cannot change.
  std::function<void(const BodyWriter&)> stream;
};

using Handler = std::function<ApiResponse(ApiRequest&)>;

enum class AuthMode { bearer, none };

// Who may call a route (docs/api.md, "Roles and permissions"): the roles, and the
// scope ("<resource>:<read|write>") an integration key needs — also when it acts
// On-Behalf-Of a user. Every route states it (Router::add takes it); the server
// checks it before the handler runs and the OpenAPI document publishes it.
struct Access {
  std::vector<std::string> roles;
  std::string scope;
  bool anyone = false;  // no credential at all: operational documents, signed plugin routes

  static Access of_roles(std::vector<std::string> roles, std::string scope) { return {std::move(roles), std::move(scope)}; }
  static Access of_anyone() { return {{}, "", true}; }
};


// One row of the router table; also what the OpenAPI document is generated from.
struct Route {
  std::string method;
  std::string path;  // template: /v1/accounts/{id}
  std::string operation_id;
  std::string summary;
  AuthMode auth = AuthMode::bearer;
  std::string entity_type;                    // for OpenAPI schemas; empty when none
  std::string kind;                           // list | create | read | update | archive | restore | action | document
  std::vector<std::string> query_parameters;  // accepted query parameters (others are refused)
  Handler handler;
  Json request_schema = nullptr;  // the JSON body's schema for OpenAPI, when not an entity's
  // A body that is not JSON (a plugin's CSV import): the media types accepted (others
  // 415) and its size limit (413 above it). Empty: the body, if any, is JSON.
  std::vector<std::string> raw_request_types;
  std::size_t raw_request_limit = 0;
  // A plugin's route it did not describe (manifest "routes"): every query parameter and
  // any body pass through to it, and OpenAPI says so.
  bool free_form = false;
  Access access;                  // who may call it: set by Router::add
  // What a success answers, as OpenAPI publishes it (the server logs an error when a
  // handler answers another 2xx): its status, media types and body schema (null: any
  // JSON object; an entity's generic protocol derives it from the entity).
  int success_status = 200;
  std::vector<std::string> response_types{"application/json"};
  Json response_schema = nullptr;
  // Answers a Location beside a created record (the generic protocol's creates say so by
  // their kind; a plugin resource's create by this).
  bool answers_location = false;
  // Honours If-Match (412 when the record moved on). The generic protocol's writes of
  // one record always do; other routes say so.
  bool conditional = false;
  // Problems beyond those its kind implies (a public link's decision: 409 once decided).
  std::vector<int> extra_problems;
  // A page for people: a browser (Accept: text/html) gets its 404 as an HTML page
  // saying why, other clients the problem document.
  bool html_not_found = false;
  // A route that checks a credential itself (a password sign-in): its client address's
  // failed attempts share the bucket of failed API keys — refused with 429 once spent,
  // and a token taken each time the handler answers "unauthenticated".
  bool checks_credentials = false;
};

// The generic protocol's answers that are one record of the route's entity, with its
// ETag (and, for a creation, its Location).
inline bool answers_one_record(const Route& route) {
  const std::string& k = route.kind;
  return k == "create" || k == "read" || k == "update" || k == "archive" || k == "restore" || k == "action";
}

// Whether the route's reads may come from a read replica up to store.replica_max_lag_ms
// behind (ADR 0048): lists, searches, an account's 360 timeline and briefing, a
// pipeline's board. Writes and audited reads stay on the primary whatever this says
// (store::OnPrimary).
inline bool reads_may_lag(const Route& route) {
  const std::string& k = route.kind;
  return k == "list" || k == "search" || k == "timeline" || k == "briefing" || k == "board";
}

// Whether the route reads a request body: the generic protocol's writes and searches,
// a declared request schema, a plugin's route. The others refuse one (400), so that
// the OpenAPI document's "no requestBody" is what the server does.
inline bool takes_body(const Route& route) {
  const std::string& k = route.kind;
  return k == "create" || k == "update" || k == "search" || k == "batch" || route.free_form ||
         !route.request_schema.is_null() || !route.raw_request_types.empty();
}

// `route` declaring a success other than 200 with a JSON object, for Router::add.
inline Route answering(Route route, int status, Json schema = nullptr,
                       std::vector<std::string> types = {"application/json"}) {
  route.success_status = status;
  route.response_schema = std::move(schema);
  route.response_types = std::move(types);
  return route;
}

// `route` honouring If-Match (Route::conditional), for Router::add.
inline Route honouring_if_match(Route route) {
  route.conditional = true;
  return route;
}

// Thrown for malformed requests that are not about a field's value (400); `fields`
// names the header or parameter when there is one.
class BadRequest : public std::runtime_error {
 public:
  explicit BadRequest(const std::string& message, std::vector<FieldError> fields = {})
      : std::runtime_error(message), fields_(std::move(fields)) {}
  const std::vector<FieldError>& fields() const noexcept { return fields_; }

 private:
  std::vector<FieldError> fields_;
};

}  // namespace nucleo::http
