#pragma once

// A real server with one vertical pack loaded by configuration (plugins.<alias>.file), for
// the packs' end-to-end tests on both backends, and what they all need: creating records
// as admin, a synthetic registry file, and dates relative to today.

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {

class PackFixture : public ApiFixture {
 public:
  // A synthetic registry file of tests/fixtures/registries/.
  static std::string fixture(const std::string& name) {
    return read_file(std::string(NUCLEO_SOURCE_DIR) + "/tests/fixtures/registries/" + name);
  }

  // Today plus `days`, as the server's clock sees dates (UTC).
  static std::string day(int days) {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + std::chrono::hours(24 * days));
    std::tm utc{};
    gmtime_r(&t, &utc);
    char out[16];
    std::strftime(out, sizeof out, "%Y-%m-%d", &utc);
    return out;
  }

 protected:
  PackFixture(std::string alias, std::string folder) : alias_(std::move(alias)), folder_(std::move(folder)) {}

  void SetUp() override {
    std::ofstream(dir_.path() + "/nucleo.properties") << "plugins." << alias_ << ".file = " << folder_ << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override { return {"--config", config()}; }
  std::string config() const { return dir_.path() + "/nucleo.properties"; }

  // POST `path` (201 expected), as `key` or the admin; the new record's id.
  std::string create(const std::string& path, const Json& body, const std::string& key = "") {
    auto made = call("POST", path, key.empty() ? admin : key, body);
    EXPECT_EQ(made.status, 201) << path << ": " << made.raw.body;
    return made.body.value("id", "");
  }

  // `nucleo demo --vertical <alias> --json` against the test's database.
  ProcessResult demo() {
    EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                           {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}};
    return run_process({NUCLEO_BINARY, "demo", "--vertical", alias_, "--config", config(), "--json"}, env,
                       std::chrono::minutes(5), dir_.path());
  }

 private:
  std::string alias_, folder_;
  TempDir dir_;
};

}  // namespace nucleo::test
