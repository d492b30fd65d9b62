// `nucleo serve` as a process, spoken to over real HTTP, on both backends.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <array>
#include <thread>

#include "tests/e2e/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

class Serve : public testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override { db_ = make_test_database(GetParam()); }

  EnvironmentChanges environment(bool migrate_on_start = true) {
    return {{"NUCLEO_HTTP_HOST", "127.0.0.1"},
            {"NUCLEO_HTTP_PORT", std::to_string(port_)},
            {"NUCLEO_STORE_URL", db_.app_url},
            {"NUCLEO_STORE_WORKER_URL", db_.worker_url},
            {"NUCLEO_STORE_OWNER_URL", db_.owner_url},
            {"NUCLEO_STORE_MIGRATE_ON_START", migrate_on_start ? "true" : "false"}};
  }

  std::unique_ptr<ChildProcess> start(bool migrate_on_start = true) {
    auto server = std::make_unique<ChildProcess>(std::vector<std::string>{NUCLEO_BINARY, "serve"},
                                                 environment(migrate_on_start), dir_.path());
    wait_for_health(*server);
    return server;
  }

  bool wait_for_health(ChildProcess& server) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!server.running()) {
        ADD_FAILURE() << "nucleo serve exited early: " << server.stderr_so_far();
        return false;
      }
      try {
        if (http_request(port_, "GET", "/healthz").status == 200) return true;
      } catch (const std::exception&) {
        // not listening yet
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "nucleo serve did not answer /healthz within 60 s: " << server.stderr_so_far();
    return false;
  }

  TestDatabase db_;
  TempDir dir_;
  unsigned short port_ = free_port();
};

TEST_P(Serve, AnswersHealthAndReadinessThenStopsCleanlyOnSigterm) {
  auto server = start();
  auto health = http_request(port_, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(nlohmann::json::parse(health.body)["status"], "ok");
  EXPECT_FALSE(health.header("X-Request-Id").empty());

  auto ready = http_request(port_, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  // Issue #35: which node answered and what it runs.
  auto node = nlohmann::json::parse(ready.body).at("node");
  EXPECT_NE(node.at("id").get<std::string>().find(':'), std::string::npos) << node;  // host name:pid
  EXPECT_EQ(node.at("roles"), nlohmann::json({"audit", "events", "jobs", "imports"}));
  EXPECT_TRUE(node.at("leases").contains("jobs")) << node;

  // Issue #26: stopping starts with /readyz 503 for http.drain_window_ms (2 s by
  // default) while the node still serves, so a load balancer takes it out first.
  server->signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  auto draining = http_request(port_, "GET", "/readyz");
  EXPECT_EQ(draining.status, 503) << draining.body;
  EXPECT_NE(draining.body.find("stopping"), std::string::npos) << draining.body;
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200);
  auto result = server->wait(30s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("nucleo serving on http://127.0.0.1"), std::string::npos) << result.err;
}

TEST_P(Serve, ANodeNamedAndGivenNoRolesOnlyServesHttpAndSaysSo) {
  auto server = std::make_unique<ChildProcess>(
      std::vector<std::string>{NUCLEO_BINARY, "serve"},
      [&] {
        auto env = environment();
        env["NUCLEO_NODE_ID"] = "web-7";
        env["NUCLEO_NODE_ROLES"] = "none";
        return env;
      }(),
      dir_.path());
  ASSERT_TRUE(wait_for_health(*server));
  auto node = nlohmann::json::parse(http_request(port_, "GET", "/readyz").body).at("node");
  EXPECT_EQ(node.at("id"), "web-7");
  EXPECT_EQ(node.at("roles"), nlohmann::json::array());
  auto metrics = http_request(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("nucleo_node_info{node=\"web-7\",version=\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("nucleo_node_role{role=\"audit\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("nucleo_node_leases{kind=\"event_subscribers\"} 0"), std::string::npos) << metrics;
  server->signal(SIGTERM);
  auto result = server->wait(30s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("node web-7, roles: none (HTTP only)"), std::string::npos) << result.err;
}

TEST_P(Serve, AnUnknownRoleOrAMalformedNodeIdStopsTheStartNamingTheKey) {
  for (auto [key, value, expected] : std::vector<std::array<std::string, 3>>{
           {"NUCLEO_NODE_ROLES", "audit, mail", "node.roles: unknown role 'mail'"},
           {"NUCLEO_NODE_ID", "web 7", "configuration key node.id"}}) {
    auto env = environment();
    env[key] = value;
    ChildProcess server({NUCLEO_BINARY, "serve"}, env, dir_.path());
    auto result = server.wait(30s);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
  }
}

TEST_P(Serve, UnknownRoutesAndMethodsGetProblemJson) {
  auto server = start();
  auto missing = http_request(port_, "GET", "/v1/nothing-here", {{"X-Request-Id", "trace-123"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(missing.header("X-Request-Id"), "trace-123");
  auto problem = nlohmann::json::parse(missing.body);
  EXPECT_EQ(problem["status"], 404);
  EXPECT_EQ(problem["request_id"], "trace-123");
  EXPECT_TRUE(problem.contains("title") && problem.contains("detail") && problem.contains("type"));

  auto wrong_method = http_request(port_, "POST", "/healthz", {}, "{}");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow"), "GET, HEAD");
}

TEST_P(Serve, IsNotReadyUntilMigratedThenBecomesReady) {
  auto server = start(/*migrate_on_start=*/false);
  auto before = http_request(port_, "GET", "/readyz");
  EXPECT_EQ(before.status, 503);
  EXPECT_NE(before.body.find("nucleo migrate"), std::string::npos) << before.body;

  auto migrate = run_process({NUCLEO_BINARY, "migrate"}, environment(), 60s, dir_.path());
  ASSERT_EQ(migrate.exit_code, 0) << migrate.err;
  EXPECT_EQ(http_request(port_, "GET", "/readyz").status, 200);
}

TEST_P(Serve, RefusesToStartOnAPortInUse) {
  auto first = start();
  ChildProcess second({NUCLEO_BINARY, "serve"}, environment(), dir_.path());
  auto result = second.wait(60s);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("nucleo serve:"), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, Serve, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
