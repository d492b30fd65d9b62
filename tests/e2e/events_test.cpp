// Issue #9, events end to end: a plugin subscribed to domain events in a running server
// gets each at least once — also across a kill -9 — with the envelope's causation and
// depth; a failing subscriber is retried, dead-lettered, listed and replayed over HTTP.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;

struct Delivery {
  std::string name, entity_id, event_id, causation_id;
  int depth = 0;
};

class Events : public ApiFixture {
 protected:
  void SetUp() override {
    fs::copy_file(fs::path(PLUGIN_FIXTURE_DIR) / "subscriber.so", fs::path(plugin_dir.path()) / "subscriber.so");
    std::ofstream(plugin_dir.path() + "/plugin.json")
        << R"({"id":"org.nucleo.fixtures.subscriber","version":"1.0.0","kind":"integration",)"
        << R"("library":"subscriber.so","kernel":"*","config_schema":{"log_file":{"type":"string","required":true},)"
        << R"("fail_marker":{"type":"string"}}})";
    std::ofstream(plugin_dir.path() + "/nucleo.properties")
        << "plugins.sub.file = " << plugin_dir.path() << "\n"
        << "plugins.sub.config.log_file = " << log_file() << "\n"
        << "plugins.sub.config.fail_marker = " << fail_marker() << "\n"
        << "events.dispatch_interval_ms = 20\nevents.retry_first_ms = 50\nevents.retry_max_ms = 100\n"
        << "events.max_attempts = 3\nevents.lease_ms = 1000\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }

  std::string log_file() { return plugin_dir.path() + "/deliveries.log"; }
  std::string fail_marker() { return plugin_dir.path() + "/failing"; }

  std::vector<Delivery> deliveries() {
    std::vector<Delivery> out;
    std::ifstream in(log_file());
    Delivery d;
    while (in >> d.name >> d.entity_id >> d.event_id >> d.causation_id >> d.depth) out.push_back(d);
    return out;
  }
  // Waits until `done(deliveries)` holds (the dispatcher runs every 20 ms).
  std::vector<Delivery> wait_for(const std::function<bool(const std::vector<Delivery>&)>& done) {
    for (int attempt = 0; attempt < 300; ++attempt) {
      auto d = deliveries();
      if (done(d)) return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return deliveries();
  }
  static std::set<std::string> entities(const std::vector<Delivery>& d, const std::string& name) {
    std::set<std::string> out;
    for (const auto& x : d)
      if (x.name == name) out.insert(x.entity_id);
    return out;
  }

  TempDir plugin_dir;
};

TEST_P(Events, ASubscriberGetsEachEventWithItsCausation) {
  std::string ana = call("POST", "/v1/contacts", admin, {{"name", "Ana"}}).body["id"];
  std::string chain = call("POST", "/v1/contacts", admin, {{"name", "Chain"}}).body["id"];
  auto d = wait_for([](const auto& d) { return entities(d, "task.created").size() == 1; });
  EXPECT_EQ(entities(d, "contact.created"), (std::set<std::string>{ana, chain}));
  ASSERT_EQ(entities(d, "task.created").size(), 1u);
  std::string chain_event;
  for (const auto& x : d)
    if (x.entity_id == chain) chain_event = x.event_id;
  for (const auto& x : d) {
    if (x.name != "task.created") continue;
    EXPECT_EQ(x.causation_id, chain_event);  // the task was written because of Chain's event
    EXPECT_EQ(x.depth, 1);
  }
  // Each subscription's backlog is on /metrics.
  auto metrics = http_request(port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("nucleo_outbox_backlog{subscriber=\"plugin:org.nucleo.fixtures.subscriber:task.created\"}"),
            std::string::npos)
      << metrics;
  // The task was written as the plugin, in the event's tenant.
  std::string task_id = *entities(d, "task.created").begin();
  auto history = call("GET", "/v1/audit/entities/task/" + task_id + "/history", auditor);
  for (int attempt = 0; attempt < 100 && history.body["versions"].empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    history = call("GET", "/v1/audit/entities/task/" + task_id + "/history", auditor);
  }
  ASSERT_FALSE(history.body["versions"].empty()) << history.raw.body;
  EXPECT_EQ(history.body["versions"][0]["actor"]["type"], "plugin") << history.raw.body;
  EXPECT_EQ(history.body["versions"][0]["actor"]["id"], "org.nucleo.fixtures.subscriber");
}

TEST_P(Events, AFailingSubscriberIsRetriedThenDeadLetteredThenReplayed) {
  std::ofstream(fail_marker()) << "down";
  std::string ana = call("POST", "/v1/contacts", admin, {{"name", "Ana"}}).body["id"];
  Reply dead;
  for (int attempt = 0; attempt < 200; ++attempt) {  // 3 attempts, 50 then 100 ms apart
    dead = call("GET", "/v1/events/dead", admin);
    if (dead.status == 200 && !dead.body["data"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(dead.body["data"].size(), 1u) << dead.raw.body;
  const Json& letter = dead.body["data"][0];
  EXPECT_EQ(letter["event_name"], "contact.created");
  EXPECT_EQ(letter["attempts"], 3);
  EXPECT_EQ(letter["subscriber"], "plugin:org.nucleo.fixtures.subscriber:contact.*");
  EXPECT_EQ(letter["last_error"], "UNAVAILABLE: the downstream system is down");
  EXPECT_TRUE(deliveries().empty());
  EXPECT_EQ(call("GET", "/v1/events/dead", manager).status, 403);
  EXPECT_EQ(call("POST", "/v1/events/dead/evt_nope/replay", admin, Json::object()).status, 404);

  fs::remove(fail_marker());
  auto replay = call("POST", "/v1/events/dead/" + letter["event_id"].get<std::string>() + "/replay", admin,
                     Json::object());
  EXPECT_EQ(replay.status, 200) << replay.raw.body;
  EXPECT_EQ(replay.body["replayed"], 1);
  auto d = wait_for([](const auto& d) { return !d.empty(); });
  EXPECT_EQ(entities(d, "contact.created"), (std::set<std::string>{ana}));
  EXPECT_TRUE(call("GET", "/v1/events/dead", admin).body["data"].empty());
}

TEST_P(Events, EveryEventIsDeliveredAfterAKill9) {
  std::set<std::string> created;
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      auto r = http_request(port, "POST", "/v1/contacts",
                            {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}},
                            Json{{"name", "Contact " + std::to_string(i)}}.dump());
      if (r.status == 201) created.insert(Json::parse(r.body)["id"].get<std::string>());
    }
  });
  writer.join();
  server->signal(SIGKILL);  // mid-dispatch, most likely: no clean shutdown, no lease released
  server->wait(std::chrono::seconds(10));
  start_server();  // same database, same configuration; the dead node's lease runs out
  auto d = wait_for([&](const auto& d) { return entities(d, "contact.created").size() >= created.size(); });
  EXPECT_EQ(created.size(), 40u);
  EXPECT_EQ(entities(d, "contact.created"), created);  // each at least once (repeats allowed)
}

INSTANTIATE_TEST_SUITE_P(Backends, Events, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
