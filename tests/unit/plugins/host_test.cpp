// The plugin host against real shared libraries: a good plugin loads and registers;
// each way a plugin can be wrong is refused with a clear reason while the others load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernel/domain/error.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/plugins/internal/loaded_plugin.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::plugins {
namespace {

namespace fs = std::filesystem;

class PluginHostTest : public testing::Test {
 protected:
  PluginHostTest() : root(fs::temp_directory_path() / ("nucleo-plugins-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~PluginHostTest() override { fs::remove_all(root); }

  // A plugin folder: the fixture library beside a manifest (fields overridable).
  std::string folder(const std::string& name, const std::string& library, Json manifest = Json::object()) {
    return test::plugin_folder(root.string(), name, library, manifest);
  }

  const PluginStatus& status_of(const PluginHost& host, const std::string& alias) {
    for (const auto& s : host.statuses())
      if (s.alias == alias) return s;
    throw std::runtime_error("no status for " + alias);
  }

  fs::path root;
};

TEST_F(PluginHostTest, AGoodPluginLoadsAndRegistersItsRoutes) {
  PluginHost host(Version{0, 1, 0});
  host.load({{"good", folder("good", "good"), {{"greeting", "olá"}}}});
  const auto& s = status_of(host, "good");
  EXPECT_TRUE(s.loaded) << s.problem;
  EXPECT_EQ(s.id, "org.nucleo.fixtures.good");
  ASSERT_EQ(host.routes().size(), 10u);
  EXPECT_EQ(host.routes()[0].path, "/ping");
}

TEST_F(PluginHostTest, EachBrokenPluginIsRefusedWithItsReasonWhileTheOthersLoad) {
  PluginHost host(Version{0, 1, 0});
  std::vector<PluginSetting> settings = {{"good", folder("good", "good"), Json::object()}};
  auto broken = test::broken_plugins(root.string());
  for (const auto& b : broken) settings.push_back({b.alias, b.file, b.config.is_null() ? Json::object() : b.config});
  host.load(settings);
  EXPECT_TRUE(status_of(host, "good").loaded) << status_of(host, "good").problem;
  for (const auto& b : broken) {
    const auto& s = status_of(host, b.alias);
    EXPECT_FALSE(s.loaded) << b.alias;
    EXPECT_NE(s.problem.find(b.reason), std::string::npos) << b.alias << ": " << s.problem;
  }
  // Only the good plugin's routes exist: a failed init's registrations are dropped.
  ASSERT_EQ(host.routes().size(), 10u);
  for (const auto& r : host.routes()) EXPECT_EQ(r.plugin_id, "org.nucleo.fixtures.good");
}

TEST_F(PluginHostTest, TheIdInTheConfigurationMustBeTheManifests) {
  PluginHost host(Version{0, 1, 0});
  host.load({{"good", folder("good", "good"), Json::object(), "org.nucleo.fixtures.expected"}});
  EXPECT_NE(status_of(host, "good").problem.find("plugins.good.id is org.nucleo.fixtures.expected but"),
            std::string::npos)
      << status_of(host, "good").problem;
}

// Issue #20: register_job "time_zone" — what it may name, refused with the reason.
TEST(JobRegistration, ATimeZoneIsAnIanaNameOrTheTenantsOnARecurringJob) {
  auto registered = [](const Json& spec) { return job_registration("org.example.p", spec.dump(), nullptr, nullptr, nullptr); };
  auto refusal = [&](const Json& spec) {
    try {
      registered(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(registered({{"name", "digest"}, {"schedule", "cron 0 7 * * *"}, {"time_zone", "tenant"}}).time_zone, "tenant");
  EXPECT_EQ(registered({{"name", "close"}, {"schedule", "cron 0 18 * * 1-5"}, {"scope", "global"},
                        {"time_zone", "America/Sao_Paulo"}}).time_zone,
            "America/Sao_Paulo");
  EXPECT_NE(refusal({{"name", "x"}, {"schedule", "cron 0 7 * * *"}, {"time_zone", "Mars/Olympus_Mons"}})
                .find("Mars/Olympus_Mons"),
            std::string::npos);
  EXPECT_NE(refusal({{"name", "x"}, {"time_zone", "tenant"}}).find("needs a schedule"), std::string::npos);
  EXPECT_NE(refusal({{"name", "x"}, {"schedule", "every 5m"}, {"scope", "global"}, {"time_zone", "tenant"}})
                .find("needs scope tenant"),
            std::string::npos);
}

TEST(PluginMetricsTest, CountersAndGaugesAreCheckedAndRenderedForPrometheus) {
  PluginMetrics m;
  m.add("org.a", "leads_total", {{"channel", "web \"form\""}}, 2, true);
  m.add("org.a", "leads_total", {{"channel", "web \"form\""}}, 1, true);
  m.add("org.a", "queue_depth", Json::object(), 7, false);
  m.add("org.a", "queue_depth", Json::object(), 3, false);
  std::string text = m.render();
  EXPECT_NE(text.find("# TYPE nucleo_plugin_leads_total counter\n"
                      "nucleo_plugin_leads_total{plugin=\"org.a\",channel=\"web \\\"form\\\"\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("nucleo_plugin_queue_depth{plugin=\"org.a\"} 3\n"), std::string::npos) << text;
  auto refused = [&](const std::string& name, const Json& labels, double v, bool counter) {
    try {
      m.add("org.a", name, labels, v, counter);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(refused("Bad-Name", Json::object(), 1, true).find("lower-case"), std::string::npos);
  EXPECT_NE(refused("leads_total", Json::object(), -1, true).find("only grows"), std::string::npos);
  EXPECT_NE(refused("leads_total", {{"plugin", "x"}}, 1, true).find("label 'plugin'"), std::string::npos);
  EXPECT_NE(refused("leads_total", Json::object(), 1, false).find("already a counter"), std::string::npos);
  for (int i = 0; i < 1000; ++i) {
    if (!refused("many", {{"n", std::to_string(i)}}, 1, true).empty()) break;
  }
  EXPECT_NE(refused("many", {{"n", "one more"}}, 1, true).find("1000 metric series"), std::string::npos);
}

TEST_F(PluginHostTest, APluginForAnotherKernelIsNotLoaded) {
  PluginHost host(Version{2, 0, 0});
  host.load({{"good", folder("good", "good"), Json::object()}});
  EXPECT_FALSE(status_of(host, "good").loaded);
  EXPECT_NE(status_of(host, "good").problem.find("needs kernel >=0.1.0 <1.0.0, this is 2.0.0"), std::string::npos);
}

}  // namespace
}  // namespace nucleo::plugins
