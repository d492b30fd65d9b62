// Issue #9, jobs end to end: a plugin's recurring job runs on schedule in a running
// server, a route enqueues one-off jobs that run in the caller's tenant, and after a
// kill -9 every job runs — those not yet due and the one that was running when the
// node died (its lease runs out, then it runs again).
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;

class Jobs : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder = plugin_folder(plugin_dir.path(), "jobs", "jobs",
                                       {{"id", "org.nucleo.fixtures.jobs"},
                                        {"config_schema", {{"log_file", {{"type", "string"}, {"required", true}}}}}});
    std::ofstream(plugin_dir.path() + "/nucleo.properties")
        << "plugins.jobs.file = " << folder << "\n"
        << "plugins.jobs.config.log_file = " << log_file() << "\n"
        << "jobs.lease_ms = 2000\n"
        << "jobs.max_attempts = 2\njobs.retry_first_ms = 50\njobs.retry_max_ms = 100\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }

  std::string log_file() { return plugin_dir.path() + "/jobs.log"; }
  std::vector<std::vector<std::string>> lines() {
    std::vector<std::vector<std::string>> out;
    std::ifstream in(log_file());
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::vector<std::string> w;
      for (std::string x; words >> x;) w.push_back(x);
      out.push_back(w);
    }
    return out;
  }
  // Lines whose first word is `kind`.
  std::vector<std::vector<std::string>> of(const std::string& kind) {
    std::vector<std::vector<std::string>> out;
    for (auto& l : lines())
      if (!l.empty() && l[0] == kind) out.push_back(l);
    return out;
  }
  bool wait_until(const std::function<bool()>& done, int seconds = 20) {
    for (int i = 0; i < seconds * 20; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }
  Json enqueue(const Json& body) {
    auto r = call("POST", "/v1/x/org.nucleo.fixtures.jobs/enqueue", admin, body);
    EXPECT_EQ(r.status, 202) << r.raw.body;
    return r.body["job_ids"];
  }

  TempDir plugin_dir;
};

// A plugin is never a way around the permission matrix (issue #20): an auditor's
// request through a plugin's route starts no job.
TEST_P(Jobs, AnAuditorsRequestEnqueuesNoJob) {
  auto refused = call("POST", "/v1/x/org.nucleo.fixtures.jobs/enqueue", auditor, {{"count", 1}});
  EXPECT_EQ(refused.status, 403) << refused.raw.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(of("done").empty());
}

// A failing plugin job is on /metrics (issue #20), not only in the jobs table.
TEST_P(Jobs, AFailingJobIsCountedOnMetrics) {
  enqueue({{"count", 1}, {"fail", true}});
  const std::string series = "nucleo_job_failures{job=\"plugin:org.nucleo.fixtures.jobs:work\"";
  std::string metrics;
  EXPECT_TRUE(wait_until([&] {
    metrics = http_request(port, "GET", "/metrics").body;
    return metrics.find(series) != std::string::npos;
  })) << metrics;
  EXPECT_TRUE(of("done").empty());
}

// A dead one-off job is listed, run again, and discarded over the API (issue #20).
TEST_P(Jobs, AFailedJobIsListedRetriedAndDiscarded) {
  std::string id = enqueue({{"count", 1}, {"fail", true}})[0];
  Reply dead;
  auto dead_listed = [&] {
    dead = call("GET", "/v1/jobs?state=dead&plugin=org.nucleo.fixtures.jobs", admin);
    return dead.status == 200 && dead.body["data"].size() == 1;
  };
  ASSERT_TRUE(wait_until(dead_listed)) << dead.raw.body;
  const Json& job = dead.body["data"][0];
  EXPECT_EQ(job["id"], id);
  EXPECT_EQ(job["name"], "plugin:org.nucleo.fixtures.jobs:work");
  EXPECT_EQ(job["plugin_id"], "org.nucleo.fixtures.jobs");
  EXPECT_EQ(job["attempts"], 2);  // jobs.max_attempts
  EXPECT_NE(job["last_error"].get<std::string>().find("the mailbox is down"), std::string::npos) << job;
  EXPECT_FALSE(job.contains("payload"));
  EXPECT_TRUE(call("GET", "/v1/jobs?plugin=org.nucleo.other", admin).body["data"].empty());
  EXPECT_EQ(call("GET", "/v1/jobs?state=stuck", admin).status, 422);
  EXPECT_EQ(call("GET", "/v1/jobs", auditor).status, 403);
  EXPECT_EQ(call("POST", "/v1/jobs/" + id + "/retry", manager).status, 403);

  auto retried = call("POST", "/v1/jobs/" + id + "/retry", admin);
  ASSERT_EQ(retried.status, 200) << retried.raw.body;
  EXPECT_EQ(retried.body["state"], "failing");
  EXPECT_EQ(retried.body["attempts"], 0);
  ASSERT_TRUE(wait_until(dead_listed)) << dead.raw.body;  // it ran, and failed, again
  EXPECT_EQ(call("DELETE", "/v1/jobs/" + id, admin).status, 200);
  EXPECT_EQ(call("DELETE", "/v1/jobs/" + id, admin).status, 404);
  EXPECT_TRUE(call("GET", "/v1/jobs", admin).body["data"].empty());
  // Both are in the audit trail.
  Reply events;
  EXPECT_TRUE(wait_until([&] {
    events = call("GET", "/v1/audit/events?entity_type=job", auditor);
    return events.body["data"].size() == 2;
  })) << events.raw.body;
}

TEST_P(Jobs, RecurringAndEnqueuedJobsRunInARealServer) {
  EXPECT_TRUE(wait_until([&] { return of("tick").size() >= 2; })) << "the every-1s job did not run twice";
  Json ids = enqueue({{"count", 3}});
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_TRUE(wait_until([&] { return of("done").size() >= 3; }));
  std::set<std::string> done, tenants;
  for (const auto& l : of("done")) {
    done.insert(l.at(1));
    tenants.insert(l.at(2));
  }
  EXPECT_EQ(done, (std::set<std::string>{ids[0], ids[1], ids[2]}));
  EXPECT_EQ(tenants, (std::set<std::string>{h->tenant}));  // the caller's tenant
  auto ticks = of("tick");
  EXPECT_NE(ticks.at(0).at(1), ticks.at(1).at(1));  // distinct scheduled times
  // Done jobs leave (just after their handler returns).
  EXPECT_TRUE(wait_until([&] { return h->count("SELECT count(*) FROM jobs WHERE schedule IS NULL") == 0; }));
}

TEST_P(Jobs, EveryJobRunsAfterAKill9) {
  // One slow job (1.2 s, within its 2 s lease) is running and 20 more are queued (due in
  // 3 s) when the node dies.
  Json slow = enqueue({{"count", 1}, {"sleep_ms", 1200}});
  ASSERT_TRUE(wait_until([&] { return of("start").size() == 1; }));
  Json queued = enqueue({{"count", 20}, {"delay_ms", 3000}});
  server->signal(SIGKILL);
  server->wait(std::chrono::seconds(10));
  EXPECT_TRUE(of("done").empty());
  EXPECT_EQ(of("start").size(), 1u);

  start_server();  // same database and configuration
  std::set<std::string> expected{slow[0].get<std::string>()};
  for (const auto& id : queued) expected.insert(id.get<std::string>());
  auto finished = [&] {
    std::set<std::string> ids;
    for (const auto& l : of("done")) ids.insert(l.at(1));
    return ids;
  };
  EXPECT_TRUE(wait_until([&] { return finished().size() >= expected.size(); }, 30));
  EXPECT_EQ(finished(), expected);
  // The slow job started twice: once on the dead node, again after its lease ran out.
  std::map<std::string, int> starts;
  for (const auto& l : of("start")) ++starts[l.at(1)];
  EXPECT_EQ(starts[slow[0].get<std::string>()], 2);
  // A job's row leaves just after its handler returns.
  EXPECT_TRUE(wait_until([&] { return h->count("SELECT count(*) FROM jobs WHERE schedule IS NULL") == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, Jobs, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
