#pragma once

// Errors as the HTTP API answers them (docs/api.md, "Errors"): RFC 9457
// application/problem+json. This is the one place where an ErrorCode becomes an HTTP
// status; the layers below never know a status number.

#include <map>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/http/router.hpp"

namespace nucleo::http {

// The status each code takes: validation 422, not_found 404, conflict and aborted 409,
// precondition_failed 412, forbidden 403, unauthenticated 401, rate_limited 429,
// unavailable 503, internal 500.
int http_status(ErrorCode code);

// An error on its way to the client: status, detail, offending fields, extra headers.
struct Problem {
  int status;
  std::string detail;
  std::vector<FieldError> fields;
  std::map<std::string, std::string> headers;
};

// The problem of an Error: its status, and the headers its code calls for
// (WWW-Authenticate on 401, Retry-After on 503).
Problem problem_of(const Error& e);

// The problem+json document: type, title, status, detail, request_id, errors[].
Json problem_json(const Problem& p, const std::string& request_id);
ApiResponse problem_response(const Problem& p, const std::string& request_id);

}  // namespace nucleo::http
