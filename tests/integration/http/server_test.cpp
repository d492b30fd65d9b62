// The HTTP server in-process, for what is awkward to provoke from outside.
#include "kernel/http/server.hpp"

#include <gtest/gtest.h>

#include "kernel/services/api_key_service.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::http {
namespace {

using namespace std::chrono_literals;

// Pool exhaustion answers 503 with Retry-After quickly instead of queueing forever.
TEST(Server, ExhaustedPoolAnswers503WithRetryAfter) {
  test::ServiceHarness h(store::Backend::sqlite, 1, 200ms);
  std::string secret = services::ApiKeyService(h.deps())
                           .create(h.context(h.tenant),
                                   {{"name", "k"}, {"role", "integration"}, {"integration", true}, {"scopes", {"*"}}})
                           .secret;
  SystemClock clock;
  ServerSettings settings;
  settings.transport.host = "127.0.0.1";
  settings.transport.port = 0;
  Server server(
      settings,
      [] {
        return Readiness{true, "test"};
      },
      ApiRuntime{h.deps(), ApiSettings{50, 200, "s"}, &clock});
  server.start();

  auto held = h.database().lease();  // the only connection
  auto r = test::http_request(server.port(), "GET", "/v1/accounts", {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_NE(r.body.find("no database connection became free"), std::string::npos) << r.body;
  { auto released = std::move(held); }
  auto ok = test::http_request(server.port(), "GET", "/v1/accounts", {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(ok.status, 200);
  server.stop();
}

TEST(Router, LiteralSegmentsBeatParameters) {
  Router router;
  auto named = [](std::string name) {
    return [name](ApiRequest&) {
      ApiResponse r;
      r.body = name;
      return r;
    };
  };
  Access anyone_in_tenant = Access::of_roles({"admin"}, "deals:read");
  router.add({"GET", "/v1/deals/{id}", "get", "", AuthMode::bearer, "", "read", {}, named("get")}, anyone_in_tenant);
  router.add({"POST", "/v1/deals/{id}/stage", "stage", "", AuthMode::bearer, "", "action", {}, named("stage")},
             anyone_in_tenant);
  router.add({"POST", "/v1/deals/{id}/restore", "restore", "", AuthMode::bearer, "", "restore", {}, named("restore")},
             anyone_in_tenant);
  auto m = router.match("POST", "/v1/deals/deal_1/stage");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->operation_id, "stage");
  EXPECT_EQ(m.params.at("id"), "deal_1");
  auto wrong_method = router.match("DELETE", "/v1/deals/deal_1");
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_EQ(wrong_method.allowed_methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(router.match("GET", "/v1/deals/deal_1/extra").route, nullptr);
  EXPECT_TRUE(router.match("GET", "/v1/deals/deal_1/extra").allowed_methods.empty());
}

// No route ships without its rule: a bearer route names roles and a scope, a route
// without credentials says so.
TEST(Router, EveryRouteMustDeclareWhoMayCallIt) {
  Router router;
  auto handler = [](ApiRequest&) { return ApiResponse{}; };
  EXPECT_THROW(router.add({"GET", "/v1/a", "a", "", AuthMode::bearer, "", "read", {}, handler}, Access{}), std::logic_error);
  EXPECT_THROW(router.add({"GET", "/v1/b", "b", "", AuthMode::bearer, "", "read", {}, handler},
                          Access::of_roles({"admin"}, "")),
               std::logic_error);
  EXPECT_THROW(router.add({"GET", "/v1/c", "c", "", AuthMode::bearer, "", "read", {}, handler}, Access::of_anyone()),
               std::logic_error);
  EXPECT_THROW(router.add({"GET", "/v1/d", "d", "", AuthMode::none, "", "read", {}, handler},
                          Access::of_roles({"admin"}, "d:read")),
               std::logic_error);
  EXPECT_NO_THROW(router.add({"GET", "/v1/e", "e", "", AuthMode::none, "", "read", {}, handler}, Access::of_anyone()));
  EXPECT_TRUE(router.routes().size() == 1 && router.routes()[0].access.anyone);
}

}  // namespace
}  // namespace nucleo::http
