// Issue #31, automation end to end in a real server: a rule saved, refused, dry-run,
// enabled and firing over HTTP, with its permissions; and cadences whose steps survive a
// kill -9 mid-run — every step done once, none lost.
#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

class Automation : public ApiFixture {
 protected:
  void SetUp() override {
    std::ofstream(config_dir.path() + "/nucleo.properties") << "automation.scan_schedule = every 1s\n"
                                                             << "jobs.lease_ms = 2000\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", config_dir.path() + "/nucleo.properties"};
  }
  bool wait_until(const std::function<bool()>& done, int seconds = 30) {
    for (int i = 0; i < seconds * 20; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }
  TempDir config_dir;
};

TEST_P(Automation, ARuleIsCheckedDryRunEnabledAndFiresOverHttp) {
  std::string pipeline = call("POST", "/v1/pipelines", admin, {{"name", "Hospitais"}}).body["id"];
  std::string first = call("POST", "/v1/stages", admin, {{"pipeline_id", pipeline}, {"name", "Contato"}, {"position", 0}}).body["id"];
  std::string proposal =
      call("POST", "/v1/stages", admin, {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 1}}).body["id"];
  std::string account = call("POST", "/v1/accounts", admin, {{"legal_name", "Hospital Santa Luzia"}}).body["id"];
  Json rule = {{"name", "Proposta grande"},
               {"trigger", {{"stage_entered", proposal}}},
               {"conditions", {{{"field", "deal.amount"}, {"op", "gte"}, {"value", 100000}}}},
               {"actions", {{{"type", "create_task"}, {"title", "Ligar: {{deal.name}} ({{account.legal_name}})"}}}}};

  Json bad = rule;
  bad["actions"][0]["title"] = "{{deal.apelido}}";
  auto refused = call("POST", "/v1/automation/rules", manager, bad);
  ASSERT_EQ(refused.status, 422) << refused.raw.body;
  EXPECT_EQ(refused.body["errors"][0]["field"], "/actions/0/title");
  EXPECT_EQ(call("POST", "/v1/automation/rules", auditor, rule).status, 403);

  auto created = call("POST", "/v1/automation/rules", manager, rule);
  ASSERT_EQ(created.status, 201) << created.raw.body;
  EXPECT_EQ(created.body["enabled"], false);  // saved disabled: dry-run it first
  std::string id = created.body["id"];
  std::string deal = call("POST", "/v1/deals", admin, {{"name", "Tomógrafo"}, {"account_id", account},
                                                       {"pipeline_id", pipeline}, {"stage_id", first}, {"amount", 500000}})
                         .body["id"];
  ASSERT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", proposal}}).status, 200);
  auto dry = call("POST", "/v1/automation/rules/" + id + "/dry-run?events=50", auditor);
  ASSERT_EQ(dry.status, 200) << dry.raw.body;
  ASSERT_EQ(dry.body["would_fire"].size(), 1u) << dry.raw.body;
  EXPECT_EQ(dry.body["would_fire"][0]["actions"][0]["task"]["title"], "Ligar: Tomógrafo (Hospital Santa Luzia)");
  EXPECT_EQ(call("POST", "/v1/automation/rules/" + id + "/dry-run?events=0", auditor).status, 400);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(h->count("SELECT COUNT(*) FROM tasks"), 0u);  // disabled: nothing fired

  ASSERT_EQ(call("POST", "/v1/automation/rules/" + id + "/enable", manager).status, 200);
  ASSERT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", first}}).status, 200);
  ASSERT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", proposal}}).status, 200);
  Json firings = until("/v1/automation/rules/" + id + "/firings", [](const Json& b) { return b["data"].size() == 1; });
  EXPECT_EQ(firings["data"][0]["outcome"], "done");
  EXPECT_EQ(h->count("SELECT COUNT(*) FROM tasks WHERE origin_rule = 'rule:" + id + "'"), 1u);
  auto history = call("GET", "/v1/audit/entities/automation_rule/" + id + "/history", auditor);
  EXPECT_EQ(history.status, 200) << history.raw.body;
}

TEST_P(Automation, EveryCadenceStepIsDoneOnceAcrossAKill9) {
  Json cadence = {{"name", "Follow-up"},
                  {"working_hours", {{"start", 0}, {"end", 24}, {"days", {0, 1, 2, 3, 4, 5, 6}}}},
                  {"steps", {{{"delay_days", 0}, {"type", "task"}, {"title", "Primeiro contato: {{contact.name}}"}},
                             {{"delay_days", 0}, {"type", "task"}, {"title", "Segundo contato: {{contact.name}}"}},
                             {{"delay_days", 0}, {"type", "task"}, {"title", "Terceiro contato: {{contact.name}}"}}}}};
  auto created = call("POST", "/v1/cadences", manager, cadence);
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"];
  const int contacts = 40;
  for (int i = 0; i < contacts; ++i) {
    std::string contact = call("POST", "/v1/contacts", admin, {{"name", "Pessoa " + std::to_string(i)}}).body["id"];
    auto enrolled = call("POST", "/v1/cadences/" + id + "/enrolments", manager, {{"contact_id", contact}});
    ASSERT_EQ(enrolled.status, 201) << enrolled.raw.body;
  }
  // Killed as soon as the steps job has done some of the work.
  ASSERT_TRUE(wait_until([&] { return h->count("SELECT COUNT(*) FROM tasks") > 0; }));
  server->signal(SIGKILL);
  server->wait(std::chrono::seconds(10));
  const std::size_t before_restart = h->count("SELECT COUNT(*) FROM tasks");
  start_server();
  ASSERT_TRUE(wait_until(
      [&] { return h->count("SELECT COUNT(*) FROM cadence_enrolments WHERE status = 'completed'") == contacts; }, 60))
      << h->count("SELECT COUNT(*) FROM cadence_enrolments WHERE status = 'completed'") << " completed";
  EXPECT_LT(before_restart, static_cast<std::size_t>(3 * contacts));  // the kill came mid-run
  EXPECT_EQ(h->count("SELECT COUNT(*) FROM tasks"), static_cast<std::size_t>(3 * contacts));
  // One task per contact and step: none twice, none lost.
  EXPECT_EQ(h->count("SELECT COUNT(*) FROM (SELECT contact_id, title FROM tasks GROUP BY contact_id, title"
                     " HAVING COUNT(*) > 1) AS repeated"),
            0u);
  auto page = call("GET", "/v1/cadences/" + id + "/enrolments?status=completed&limit=100", auditor);
  ASSERT_EQ(page.status, 200) << page.raw.body;
  EXPECT_EQ(page.body["data"].size(), static_cast<std::size_t>(contacts));
  EXPECT_EQ(page.body["data"][0]["history"].size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Automation, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
