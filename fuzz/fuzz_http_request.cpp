// The HTTP request path up to the first database call (issue #17): bytes from the
// network framed by the transport's parser with the transport's limits, then the
// checks every request passes in the server (target, recorded headers, route, query,
// JSON body). Any input must end in an answer — a request the parser refuses, or a
// BadRequest / Error the server maps to a 4xx — never a crash, a sanitizer report or
// another exception (which would be a 500).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/router.hpp"

namespace {

using namespace nucleo;
using namespace nucleo::http;
namespace bhttp = boost::beast::http;

// Templates of every shape the real table has: collections, items, actions, nested
// documents, plugin routes that take any query.
const Router& router() {
  static const Router table = [] {
    Router r;
    auto none = [](ApiRequest&) { return ApiResponse{}; };
    auto any = Access::of_roles({"admin"}, "accounts:read");
    r.add({"GET", "/v1/accounts", "list", "", AuthMode::bearer, "account", "list", {"limit", "cursor", "lifecycle"}, none}, any);
    r.add({"POST", "/v1/accounts", "create", "", AuthMode::bearer, "account", "create", {}, none}, any);
    r.add({"GET", "/v1/accounts/{id}", "get", "", AuthMode::bearer, "account", "read", {}, none}, any);
    r.add({"PATCH", "/v1/accounts/{id}", "update", "", AuthMode::bearer, "account", "update", {}, none}, any);
    r.add({"GET", "/v1/accounts/{id}/briefing", "briefing", "", AuthMode::bearer, "account", "briefing", {"quiet_days"}, none}, any);
    r.add({"POST", "/v1/deals/{id}/stage", "stage", "", AuthMode::bearer, "deal", "action", {}, none}, any);
    r.add({"GET", "/v1/audit/entities/{type}/{id}/history", "history", "", AuthMode::bearer, "", "audit", {"as_of"}, none}, any);
    Route plugin{"POST", "/v1/x/com.example.p/hook/{name}", "hook", "", AuthMode::none, "", "plugin", {}, none};
    plugin.free_form = true;
    r.add(plugin, Access::of_anyone());
    return r;
  }();
  return table;
}

void check(const HttpRequest& request) {
  Target target = checked_target(request.target);
  Router::Match match = router().match(request.method, target.path);
  checked_recorded_headers(request);
  if (!match.route) return;
  json_content(request);
  ApiRequest req{request.headers, request.method, target.path, match.params, {}, {}, "req_fuzz", {}, 32};
  req.query = checked_query(target.uri, *match.route);
  req.body = request.body;
  integer_parameter(req, "limit", 1, 200);
  integer_parameter(req, "quiet_days", 1, 3650);
  if (!req.body.empty()) req.json();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The transport's parser, with its limits (transport.cpp).
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 << 10);
  parser.body_limit(64 << 10);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto te = parser.get().find(bhttp::field::transfer_encoding);
  if (te != parser.get().end() && !parser.chunked()) return 0;  // refused: RFC 9112 §6.3

  HttpRequest request;
  request.method = std::string(parser.get().method_string());
  request.target = std::string(parser.get().target());
  for (const auto& field : parser.get()) request.headers.add(std::string(field.name_string()), std::string(field.value()));
  request.body = parser.get().body();
  request.client_address = "127.0.0.1";
  try {
    check(request);
  } catch (const BadRequest&) {
  } catch (const Error& e) {
    // A client's bytes may be refused, never answered with a server error (500, 503).
    if (e.code() == ErrorCode::internal || e.code() == ErrorCode::unavailable) std::abort();
  }
  return 0;
}
