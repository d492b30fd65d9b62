#pragma once

#include <Poco/URI.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kernel/http/exchange.hpp"
#include "kernel/http/problem.hpp"
#include "kernel/http/transport.hpp"

namespace nucleo::http {

// What every request must pass before anything reads or writes the database: pure
// functions of the request, so the HTTP fuzz target (fuzz/fuzz_http_request.cpp) runs
// them exactly as the server does. Each throws BadRequest (400) naming the problem.

// The request target: a parsable URI whose percent-decoded path is UTF-8.
struct Target {
  Poco::URI uri;
  std::string path;
};
Target checked_target(const std::string& target);

// Headers whose values are recorded (the audit trail, the idempotency store) or looked
// up: X-Reason (UTF-8 text, ≤ 1,000 bytes), Idempotency-Key (visible ASCII, ≤ 255),
// On-Behalf-Of (visible ASCII, ≤ 128). Returns the reason.
std::string checked_recorded_headers(const HttpRequest& request);

// A bearer route's body is JSON: false (415) unless it is declared application/json,
// parameters allowed. An empty body needs no Content-Type.
bool json_content(const HttpRequest& request);

// A route that takes a raw body (Route::raw_request_types): 415 naming the accepted
// types when the Content-Type is another, 413 above its limit; nullopt when it passes.
std::optional<Problem> raw_body_refusal(const HttpRequest& request, const Route& route);

// The query parameters the route accepts, decoded, each given once, UTF-8 text without
// NUL characters.
std::map<std::string, std::string> checked_query(const Poco::URI& uri, const Route& route);

// A query parameter that must be a whole number from `min` to `max`, in digits only
// ("5x", " 5", "+5" and "5.0" are refused with a 400 naming it); nullopt when absent.
std::optional<std::int64_t> integer_parameter(const ApiRequest& req, const std::string& name, std::int64_t min,
                                              std::int64_t max);

}  // namespace nucleo::http
