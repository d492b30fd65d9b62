#include "kernel/http/request_checks.hpp"

#include <Poco/Exception.h>
#include <Poco/String.h>

#include <algorithm>

#include "kernel/domain/json_text.hpp"

namespace nucleo::http {
namespace {

std::string checked_header(const HttpRequest& request, const std::string& name, std::size_t max_bytes,
                           bool ascii_only) {
  // A copy: Poco's get(name, default) returns a reference to `default`, here a
  // temporary (found by fuzz_http_request; the server had the same dangling read).
  std::string value = request.headers.get(name, "");
  bool ok = value.size() <= max_bytes && is_valid_utf8(value);
  for (char c : value) {
    auto b = static_cast<unsigned char>(c);
    ok = ok && (b >= 0x20 || b == '\t') && b != 0x7f && (!ascii_only || b < 0x80);
  }
  if (!ok)
    throw BadRequest(name + " must be " + (ascii_only ? "visible ASCII" : "UTF-8 text") +
                         " without control characters, at most " + std::to_string(max_bytes) + " bytes",
                     {{name, ascii_only ? "must be visible ASCII" : "must be UTF-8 text without control characters"}});
  return value;
}

bool is_text(const std::string& s) {
  return is_valid_utf8(s) && s.find('\0') == std::string::npos;
}

}  // namespace

Target checked_target(const std::string& target) {
  Target t;
  try {
    t.uri = Poco::URI(target);
  } catch (const Poco::Exception&) {
    throw BadRequest("malformed request target");
  }
  t.path = t.uri.getPath();
  if (!is_valid_utf8(t.path)) throw BadRequest("the request path is not valid UTF-8 once percent-decoded");
  return t;
}

std::string checked_recorded_headers(const HttpRequest& request) {
  std::string reason = checked_header(request, "X-Reason", 1000, false);
  checked_header(request, "Idempotency-Key", 255, true);
  checked_header(request, "On-Behalf-Of", 128, true);
  return reason;
}

bool json_content(const HttpRequest& request) {
  if (request.body.empty()) return true;
  // application/json only, with parameters (charset=utf-8): what the OpenAPI document
  // declares, so a body without a Content-Type is refused too.
  std::string type = Poco::toLower(request.headers.get("Content-Type", ""));
  return Poco::trim(type.substr(0, type.find(';'))) == "application/json";
}

std::optional<Problem> raw_body_refusal(const HttpRequest& request, const Route& route) {
  if (request.body.empty()) return std::nullopt;
  std::string type = Poco::toLower(request.headers.get("Content-Type", ""));
  type = Poco::trim(type.substr(0, type.find(';')));
  const auto& accepted = route.raw_request_types;
  if (std::find(accepted.begin(), accepted.end(), type) == accepted.end()) {
    std::string names;
    for (const auto& t : accepted) names += (names.empty() ? "" : ", ") + t;
    return Problem{415, "the body must be one of: " + names, {{"Content-Type", "must be one of: " + names}}, {}};
  }
  if (route.raw_request_limit > 0 && request.body.size() > route.raw_request_limit)
    return Problem{413, "the body exceeds " + std::to_string(route.raw_request_limit) + " bytes", {}, {}};
  return std::nullopt;
}

std::map<std::string, std::string> checked_query(const Poco::URI& uri, const Route& route) {
  Poco::URI::QueryParameters params;
  try {
    params = uri.getQueryParameters();
  } catch (const Poco::Exception&) {
    throw BadRequest("malformed query string");
  }
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : params) {
    // Decoded parameters reach SQL and the audit trail: text only.
    if (!is_text(name) || !is_text(value))
      throw BadRequest("query parameter '" + (is_valid_utf8(name) ? name : std::string("?")) +
                           "' is not UTF-8 text without NUL characters",
                       {{is_valid_utf8(name) ? name : "query", "must be UTF-8 text without NUL characters"}});
    bool accepted = route.free_form || std::find(route.query_parameters.begin(), route.query_parameters.end(), name) !=
                                           route.query_parameters.end();
    if (!accepted) throw BadRequest("unknown query parameter '" + name + "'");
    if (!query.emplace(name, value).second) throw BadRequest("query parameter '" + name + "' is given twice");
  }
  return query;
}

std::optional<std::int64_t> integer_parameter(const ApiRequest& req, const std::string& name, std::int64_t min,
                                              std::int64_t max) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::nullopt;
  const std::string& text = it->second;
  bool digits = !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos;
  std::int64_t n = digits ? std::stoll(text) : min - 1;
  if (n < min || n > max)
    throw BadRequest(name + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max),
                     {{name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max)}});
  return n;
}

}  // namespace nucleo::http
