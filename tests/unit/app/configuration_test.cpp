#include "kernel/app/configuration.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "kernel/app/settings.hpp"
#include "kernel/domain/error.hpp"
#include "tests/support/process.hpp"

namespace nucleo::app {
namespace {

std::string write_properties(const test::TempDir& dir, const std::string& text) {
  std::string path = dir.path() + "/nucleo.properties";
  std::ofstream(path) << text;
  return path;
}

TEST(Configuration, DefaultsComeFromTheCompiledInPropertiesFile) {
  auto config = load_configuration("", {});
  EXPECT_EQ(get_string(config, "store.url"), "sqlite:var/nucleo.db");
  EXPECT_EQ(get_integer(config, "http.port", 0, 65535), 8080);
  EXPECT_TRUE(get_bool(config, "store.migrate_on_start"));
}

TEST(Configuration, FileOverridesDefaults) {
  test::TempDir dir;
  auto config = load_configuration(write_properties(dir, "http.port = 9000\n"), {});
  EXPECT_EQ(get_integer(config, "http.port", 0, 65535), 9000);
  EXPECT_EQ(get_string(config, "store.url"), "sqlite:var/nucleo.db");
}

TEST(Configuration, EnvironmentOverridesFileAndDefaults) {
  test::TempDir dir;
  auto config = load_configuration(write_properties(dir, "http.port = 9000\n"),
                                   {{"NUCLEO_HTTP_PORT", "9100"}, {"NUCLEO_STORE_POOL_SIZE", "3"}, {"HTTP_PORT", "1"}});
  EXPECT_EQ(get_integer(config, "http.port", 0, 65535), 9100);
  EXPECT_EQ(get_integer(config, "store.pool_size", 1, 1000), 3);
}

TEST(Configuration, EnvironmentNamesAreUpperCaseWithUnderscores) {
  EXPECT_EQ(environment_name("http.port"), "NUCLEO_HTTP_PORT");
  EXPECT_EQ(environment_name("store.migrate_on_start"), "NUCLEO_STORE_MIGRATE_ON_START");
}

TEST(Configuration, EnvironmentCanOverrideAKeyOnlyTheFileDefines) {
  test::TempDir dir;
  auto config = load_configuration(write_properties(dir, "custom.key = a\n"), {{"NUCLEO_CUSTOM_KEY", "b"}});
  EXPECT_EQ(get_string(config, "custom.key"), "b");
}

TEST(Configuration, MissingFileIsAValidationError) {
  try {
    load_configuration("/nonexistent/nucleo.properties", {});
    FAIL() << "accepted a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/nucleo.properties"), std::string::npos);
  }
}

TEST(Configuration, BadValuesNameTheKey) {
  auto config = load_configuration("", {{"NUCLEO_HTTP_PORT", "eighty"}, {"NUCLEO_STORE_MIGRATE_ON_START", "maybe"}});
  try {
    read_http_settings(config);
    FAIL() << "accepted http.port = eighty";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    EXPECT_NE(std::string(e.what()).find("http.port"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("eighty"), std::string::npos);
  }
  EXPECT_THROW(get_bool(config, "store.migrate_on_start"), Error);
}

// ADR 0049: by default the HTTP workers follow the machine's cores.
TEST(Configuration, HttpWorkersAreTwiceTheCoresByDefaultAndAsConfiguredOtherwise) {
  EXPECT_EQ(http_workers(0, 2), 4);
  EXPECT_EQ(http_workers(0, 1), 4) << "at least 4";
  EXPECT_EQ(http_workers(0, 0), 4) << "cores unknown";
  EXPECT_EQ(http_workers(0, 16), 32);
  EXPECT_EQ(http_workers(16, 2), 16);
  EXPECT_EQ(read_http_settings(load_configuration("", {})).transport.workers,
            http_workers(0, std::thread::hardware_concurrency()));
  EXPECT_EQ(read_http_settings(load_configuration("", {{"NUCLEO_HTTP_MAX_THREADS", "7"}})).transport.workers, 7);
  EXPECT_THROW(read_http_settings(load_configuration("", {{"NUCLEO_HTTP_MAX_THREADS", "-1"}})), Error);
}

TEST(Configuration, WorkerAndOwnerUrlsFallBackToStoreUrl) {
  auto config = load_configuration("", {{"NUCLEO_STORE_URL", "postgresql://nucleo_app@db/crm"}});
  auto s = read_store_settings(config);
  EXPECT_EQ(s.url.backend, store::Backend::postgresql);
  EXPECT_EQ(s.owner_url.display, "postgresql://nucleo_app@db/crm");
  EXPECT_EQ(s.worker_url.display, "postgresql://nucleo_app@db/crm");
}

TEST(Configuration, MixedBackendsAreRefused) {
  auto config = load_configuration(
      "", {{"NUCLEO_STORE_URL", "sqlite:x.db"}, {"NUCLEO_STORE_OWNER_URL", "postgresql://nucleo_owner@db/crm"}});
  EXPECT_THROW(read_store_settings(config), Error);
}

// clusters.<name>.*: other PostgreSQL clusters tenants may live on (ADR 0048).
TEST(Configuration, ClustersAreNamedPostgreSQLDatabases) {
  test::TempDir dir;
  auto config = load_configuration(write_properties(dir, "clusters.eu.url = postgresql://nucleo_app@db-eu/crm\n"
                                                        "clusters.eu.owner_url = postgresql://nucleo_owner@db-eu/crm\n"),
                                   {{"NUCLEO_STORE_URL", "postgresql://nucleo_app@db/crm"}});
  auto s = read_store_settings(config);
  ASSERT_EQ(s.clusters.size(), 1u);
  EXPECT_EQ(s.clusters[0].name, "eu");
  EXPECT_EQ(s.clusters[0].worker_url.display, "postgresql://nucleo_app@db-eu/crm");  // .url when unset
  EXPECT_EQ(s.clusters[0].owner_url.display, "postgresql://nucleo_owner@db-eu/crm");
  EXPECT_EQ(s.placement_cache, std::chrono::milliseconds(1000));

  auto refused = [&](const std::string& text, const std::map<std::string, std::string>& env, const std::string& why) {
    test::TempDir d;
    try {
      read_store_settings(load_configuration(write_properties(d, text), env));
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  std::map<std::string, std::string> postgres{{"NUCLEO_STORE_URL", "postgresql://nucleo_app@db/crm"}};
  refused("clusters.home.url = postgresql://x@db2/crm\n", postgres, "not 'home'");
  refused("clusters.EU.url = postgresql://x@db2/crm\n", postgres, "lower-case");
  refused("clusters.eu.url = sqlite:eu.db\n", postgres, "a cluster is a PostgreSQL database");
  refused("clusters.eu.url = postgresql://x@db2/crm\n", {}, "clusters need a PostgreSQL store.url");
}

// docs/configuration.md must list every key the defaults define, with its default.
TEST(Configuration, EveryDefaultKeyIsDocumented) {
  std::string docs = test::read_file(std::string(NUCLEO_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_FALSE(docs.empty()) << "docs/configuration.md is missing";
  std::string defaults = test::read_file(std::string(NUCLEO_SOURCE_DIR) + "/config/nucleo.properties");
  std::regex line(R"(^([a-z_.]+)\s*=\s*(.*)$)");
  int keys = 0;
  std::istringstream in(defaults);
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (!std::regex_match(text, m, line)) continue;
    ++keys;
    std::string row_start = "| `" + m[1].str() + "` | `" + m[2].str() + "` |";
    if (m[2].str().empty()) row_start = "| `" + m[1].str() + "` | (empty) |";
    EXPECT_NE(docs.find(row_start), std::string::npos) << "docs/configuration.md lacks the row: " << row_start;
  }
  EXPECT_GT(keys, 5);
}

}  // namespace
}  // namespace nucleo::app
