// Issue #26: the API fuzzed from its own OpenAPI document (tests/api_fuzz/fuzz.mjs) for a
// bounded budget with a fixed seed, against a real server on each backend: no 5xx,
// authentication never ignored, and every answer held to the document by the contract
// check (tests/contract/check.mjs). scripts/api-fuzz.sh runs the full budget.
#include "kernel/services/api_key_service.hpp"
#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

class ApiFuzz : public ApiFixture {
 protected:
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_LIMITS_RATE_PER_SECOND", "100000"},
            {"NUCLEO_LIMITS_RATE_BURST", "100000"},
            {"NUCLEO_LIMITS_AUTH_FAILURES_PER_MINUTE", "100000"}};
  }
};

TEST_P(ApiFuzz, NoServerErrorNoIgnoredAuthenticationEveryAnswerAsDocumented) {
  std::string sales_user;
  std::string sales = user_key(h->tenant, "sales", &sales_user);
  // The fuzzer's own users and keys stay as they are: archiving them would end its reach.
  std::string protect = services::key_id_of_secret(admin) + "," + services::key_id_of_secret(sales) + "," + sales_user;
  Json users = call("GET", "/v1/users?limit=50", admin).body["data"];
  for (const auto& u : users)
    if (u["role"] == "admin") protect += "," + u["id"].get<std::string>();
  TempDir record;
  auto fuzzed = run_process({"/usr/bin/env", "node", NUCLEO_SOURCE_DIR "/tests/api_fuzz/fuzz.mjs", "--port", std::to_string(port),
                             "--admin", admin, "--sales", sales, "--seed", "1", "--cases", "1200", "--protect", protect,
                             "--record", record.path()},
                            {}, std::chrono::minutes(10));
  EXPECT_EQ(fuzzed.exit_code, 0) << fuzzed.out << fuzzed.err << "\nthe server's log:\n" << server->stderr_so_far();
  std::printf("%s", fuzzed.out.substr(0, 400).c_str());
  auto checked = run_process({"/usr/bin/env", "node", NUCLEO_SOURCE_DIR "/tests/contract/check.mjs", record.path()},
                             {{"NUCLEO_TOOLS", NUCLEO_TOOLS_DIR}}, std::chrono::minutes(5));
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  std::printf("%s", checked.out.substr(checked.out.size() > 400 ? checked.out.size() - 400 : 0).c_str());
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiFuzz, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
