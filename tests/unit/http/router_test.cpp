// The router's table (docs/architecture.md §7): literal segments beat parameters, a
// path that exists under another method names the allowed ones, and no route is taken
// without a declared rule of who may call it.
#include "kernel/http/router.hpp"

#include <gtest/gtest.h>

#include "kernel/http/problem.hpp"

namespace nucleo::http {
namespace {

Route route(std::string method, std::string path, AuthMode auth = AuthMode::bearer) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.operation_id = r.method + r.path;
  r.auth = auth;
  r.handler = [](ApiRequest&) { return ApiResponse{}; };
  return r;
}

const Access sales_may_read = Access::of_roles({"sales"}, "deals:read");

TEST(Router, ALiteralSegmentBeatsAParameterAndParametersAreNamed) {
  Router router;
  router.add(route("GET", "/v1/deals/{id}"), sales_may_read);
  router.add(route("POST", "/v1/deals/{id}/stage"), sales_may_read);
  router.add(route("GET", "/v1/deals/search"), sales_may_read);

  auto by_id = router.match("GET", "/v1/deals/deal_123");
  ASSERT_NE(by_id.route, nullptr);
  EXPECT_EQ(by_id.route->path, "/v1/deals/{id}");
  EXPECT_EQ(by_id.params.at("id"), "deal_123");

  auto literal = router.match("GET", "/v1/deals/search");
  ASSERT_NE(literal.route, nullptr);
  EXPECT_EQ(literal.route->path, "/v1/deals/search");

  auto action = router.match("POST", "/v1/deals/deal_9/stage");
  ASSERT_NE(action.route, nullptr);
  EXPECT_EQ(action.params.at("id"), "deal_9");
}

TEST(Router, APathUnderAnotherMethodNamesTheAllowedOnes) {
  Router router;
  router.add(route("GET", "/v1/deals/{id}"), sales_may_read);
  router.add(route("PATCH", "/v1/deals/{id}"), Access::of_roles({"sales"}, "deals:write"));
  auto wrong = router.match("PUT", "/v1/deals/deal_1");
  EXPECT_EQ(wrong.route, nullptr);
  EXPECT_EQ(wrong.allowed_methods, (std::vector<std::string>{"GET", "PATCH"}));
  auto nothing = router.match("GET", "/v1/nowhere");
  EXPECT_EQ(nothing.route, nullptr);
  EXPECT_TRUE(nothing.allowed_methods.empty());
}

TEST(Router, EveryRouteDeclaresWhoMayCallIt) {
  Router router;
  EXPECT_THROW(router.add(route("GET", "/v1/deals"), Access{}), std::exception);  // no role, no scope
  EXPECT_THROW(router.add(route("GET", "/v1/deals"), Access::of_roles({"sales"}, "")), std::exception);
  EXPECT_NO_THROW(router.add(route("GET", "/healthz", AuthMode::none), Access::of_anyone()));
  router.add(route("GET", "/v1/deals"), sales_may_read);
  EXPECT_EQ(router.match("GET", "/v1/deals").route->access.scope, "deals:read");
}

TEST(Problem, EachCodeHasOneStatusAndRetryableOnesSaySo) {
  EXPECT_EQ(http_status(ErrorCode::validation), 422);
  EXPECT_EQ(http_status(ErrorCode::conflict), 409);
  EXPECT_EQ(http_status(ErrorCode::aborted), 409);
  EXPECT_EQ(http_status(ErrorCode::precondition_failed), 412);
  EXPECT_EQ(http_status(ErrorCode::unavailable), 503);
  EXPECT_FALSE(retryable(ErrorCode::conflict));  // a duplicate stays a duplicate
  EXPECT_TRUE(retryable(ErrorCode::aborted));    // a concurrent change may not recur

  Problem p = problem_of(Error(ErrorCode::unauthenticated, "unknown API key"));
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(p.headers.at("WWW-Authenticate"), "Bearer");
  Json body = problem_json(problem_of(validation_error("invalid deal", {{"amount", "must not be negative"}})), "req_1");
  EXPECT_EQ(body["status"], 422);
  EXPECT_EQ(body["title"], "Unprocessable Entity");
  EXPECT_EQ(body["request_id"], "req_1");
  EXPECT_EQ(body["errors"], Json::parse(R"([{"field": "amount", "message": "must not be negative"}])"));
}

}  // namespace
}  // namespace nucleo::http
