// Issue #35: tenants on more than one PostgreSQL primary (ADR 0048). A tenant with data,
// history and audit events moves from the home cluster to a second PostgreSQL server
// with `nucleo tenant move`, verified on both sides, while a node serves both; its API
// keys, records and audit log follow it, other tenants stay untouched, the old copy goes
// on --confirm, and it moves back again.
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <fstream>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

// One statement's single number, as the PostgreSQL superuser of `url` sees it (all tenants).
long long count_at(const std::string& url, const std::string& sql) {
  soci::session db(soci::postgresql, url.substr(url.find(':') + 1));
  long long n = 0;
  db << sql, soci::into(n);
  return n;
}

class TenantMove : public ApiFixture {
 protected:
  void SetUp() override {
    eu_server = std::make_unique<PostgresServer>();
    eu = eu_server->create_database();
    config = config_dir.path() + "/nucleo.properties";
    std::ofstream(config) << "clusters.eu.url = " << eu.app_url << "\n"
                          << "clusters.eu.worker_url = " << eu.worker_url << "\n"
                          << "clusters.eu.owner_url = " << eu.owner_url << "\n"
                          << "store.placement_cache_ms = 200\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override { return {"--config", config}; }
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_BACKGROUND_SAFETY_POLL_MS", "200"}, {"NUCLEO_EVENTS_DISPATCH_INTERVAL_MS", "20"}};
  }

  ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv{NUCLEO_BINARY};
    for (auto& a : args) argv.push_back(a);
    argv.push_back("--config");
    argv.push_back(config);
    return run_process(argv, node_environment(), 180s, dir.path());
  }

  long long home_count(const std::string& sql) { return count_at(h->db.superuser_url, sql); }
  long long eu_count(const std::string& sql) { return count_at(eu.superuser_url, sql); }
  std::string of_tenant(const std::string& table) {
    return "SELECT count(*) FROM " + table + " WHERE tenant_id = '" + h->tenant + "'";
  }

  // Until every audit event of `tenant` (the moving one by default) is sequenced where it lives.
  void sequenced(const std::function<long long(const std::string&)>& count, const std::string& tenant = "") {
    std::string pending =
        "SELECT count(*) FROM audit_pending WHERE tenant_id = '" + (tenant.empty() ? h->tenant : tenant) + "'";
    for (int i = 0; i < 300 && count(pending) > 0; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(count(pending), 0);
  }

  void audit_verifies(const std::string& out) {
    auto exported = cli({"audit", "export", "--tenant", h->tenant, "--out", dir.path() + "/" + out});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    auto verified = run_process({NUCLEO_BINARY, "audit", "verify", dir.path() + "/" + out}, {}, 120s, dir.path());
    EXPECT_EQ(verified.out.rfind("PASS", 0), 0u) << verified.out << verified.err;
  }

  TempDir config_dir;
  std::string config;
  std::unique_ptr<PostgresServer> eu_server;
  PostgresDatabase eu;
};

TEST_P(TenantMove, MovesATenantWithItsHistoryAndAuditLogAndLeavesOthersAlone) {
  // The tenant: accounts with a history of changes, a contact; another tenant beside it.
  std::vector<std::string> accounts;
  for (int i = 0; i < 3; ++i) {
    auto created = call("POST", "/v1/accounts", admin, {{"legal_name", "Conta " + std::to_string(i)}});
    ASSERT_EQ(created.status, 201) << created.raw.body;
    accounts.push_back(created.body["id"]);
    ASSERT_EQ(call("PATCH", "/v1/accounts/" + accounts.back(), admin, {{"trade_name", "Fantasia " + std::to_string(i)}}).status,
              200);
  }
  ASSERT_EQ(call("POST", "/v1/contacts", admin, {{"name", "Ana Lima"}, {"account_id", accounts[0]}}).status, 201);
  std::string other = h->create_tenant("Outra");
  std::string other_admin = user_key(other, "admin");
  ASSERT_EQ(call("POST", "/v1/accounts", other_admin, {{"legal_name", "Vizinha"}}).status, 201);
  sequenced([&](const std::string& sql) { return home_count(sql); });
  // The other tenant's events too: counted before the move, they must not be counted mid-sequencing.
  sequenced([&](const std::string& sql) { return home_count(sql); }, other);
  long long audit_size = home_count(of_tenant("audit_log"));
  long long other_rows = home_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + other + "'");
  long long other_audit = home_count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + other + "'");

  // The move: counts and the audit root verified on both sides, the directory switched.
  auto moved = cli({"tenant", "move", "--tenant", h->tenant, "--to", "eu"});
  ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  EXPECT_NE(moved.out.find("to=eu"), std::string::npos) << moved.out;
  EXPECT_NE(moved.out.find("audit_size=" + std::to_string(audit_size) + "\n"), std::string::npos) << moved.out;
  EXPECT_NE(moved.err.find("--confirm"), std::string::npos) << moved.err;
  EXPECT_EQ(eu_count(of_tenant("accounts")), 3);
  EXPECT_EQ(eu_count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + h->tenant + "' AND seq < " +
                     std::to_string(audit_size)),
            audit_size);
  EXPECT_EQ(home_count(of_tenant("accounts")), 3) << "the old copy stays until --confirm";

  // The node serves the tenant from its new cluster: its key, its records, new writes.
  auto read = call("GET", "/v1/accounts/" + accounts[1], admin);
  ASSERT_EQ(read.status, 200) << read.raw.body;
  EXPECT_EQ(read.body["trade_name"], "Fantasia 1");
  auto written = call("POST", "/v1/accounts", admin, {{"legal_name", "Depois da mudança"}});
  ASSERT_EQ(written.status, 201) << written.raw.body;
  std::string after = written.body["id"];
  EXPECT_EQ(eu_count("SELECT count(*) FROM accounts WHERE id = '" + after + "'"), 1);
  EXPECT_EQ(home_count("SELECT count(*) FROM accounts WHERE id = '" + after + "'"), 0);
  // The move itself and the new write are audited there, by the node's sequencer for eu.
  sequenced([&](const std::string& sql) { return eu_count(sql); });
  EXPECT_EQ(eu_count(of_tenant("audit_log")), audit_size + 2);
  EXPECT_EQ(eu_count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + h->tenant + "' AND action = 'tenant.moved'"), 1);
  audit_verifies("after-move");

  // The other tenant did not move and did not change.
  EXPECT_EQ(eu_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + other + "'"), 0);
  EXPECT_EQ(home_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + other + "'"), other_rows);
  EXPECT_EQ(home_count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + other + "'"), other_audit);
  EXPECT_EQ(call("GET", "/v1/accounts", other_admin).body["data"].size(), 1u);

  // While a tenant is moving its writes wait (503) and its reads go on; --abort ends it.
  ASSERT_EQ(home_count("WITH m AS (UPDATE tenant_placements SET state = 'moving' WHERE tenant_id = '" + h->tenant +
                       "' RETURNING 1) SELECT count(*) FROM m"),
            1);
  std::this_thread::sleep_for(500ms);  // past store.placement_cache_ms
  auto refused = call("POST", "/v1/accounts", admin, {{"legal_name", "Durante"}});
  EXPECT_EQ(refused.status, 503) << refused.raw.body;
  EXPECT_EQ(call("GET", "/v1/accounts/" + after, admin).status, 200);
  EXPECT_EQ(call("POST", "/v1/accounts", other_admin, {{"legal_name", "Vizinha 2"}}).status, 201);
  auto again = cli({"tenant", "move", "--tenant", h->tenant, "--to", "home"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("--abort"), std::string::npos) << again.err;
  ASSERT_EQ(cli({"tenant", "move", "--tenant", h->tenant, "--abort"}).exit_code, 0);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", "Retomada"}}).status, 201);

  // --confirm removes the old copy; home keeps the tenant's row for its directory.
  auto confirmed = cli({"tenant", "move", "--tenant", h->tenant, "--confirm"});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.out << confirmed.err;
  EXPECT_EQ(home_count(of_tenant("accounts")), 0);
  EXPECT_EQ(home_count(of_tenant("audit_log")), 0);
  EXPECT_EQ(home_count(of_tenant("api_keys")), 0);
  EXPECT_EQ(home_count("SELECT count(*) FROM tenants WHERE id = '" + h->tenant + "'"), 1);
  EXPECT_EQ(call("GET", "/v1/accounts/" + accounts[2], admin).status, 200);
  EXPECT_EQ(home_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + other + "'"), other_rows + 1);

  // And back home: the same verification, then the copy on eu goes too.
  sequenced([&](const std::string& sql) { return eu_count(sql); });
  auto back = cli({"tenant", "move", "--tenant", h->tenant, "--to", "home"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_EQ(home_count(of_tenant("accounts")), 5);
  ASSERT_EQ(cli({"tenant", "move", "--tenant", h->tenant, "--confirm"}).exit_code, 0);
  EXPECT_EQ(eu_count("SELECT count(*) FROM tenants WHERE id = '" + h->tenant + "'"), 0);
  EXPECT_EQ(eu_count(of_tenant("accounts")), 0);
  EXPECT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", "Em casa"}}).status, 201);
  sequenced([&](const std::string& sql) { return home_count(sql); });
  audit_verifies("back-home");
  // Every write the API made on eu went through the one door (its write log).
  EXPECT_EQ(unaudited_writes(eu.superuser_url), "");
}

TEST_P(TenantMove, RefusesWhatCannotBeMoved) {
  auto unknown = cli({"tenant", "move", "--tenant", h->tenant, "--to", "mars"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown cluster 'mars'"), std::string::npos) << unknown.err;
  auto here = cli({"tenant", "move", "--tenant", h->tenant, "--to", "home"});
  EXPECT_NE(here.err.find("already lives on cluster 'home'"), std::string::npos) << here.err;
  auto nobody = cli({"tenant", "move", "--tenant", "ten_nobody", "--to", "eu"});
  EXPECT_NE(nobody.err.find("not found"), std::string::npos) << nobody.err;
  auto nothing = cli({"tenant", "move", "--tenant", h->tenant, "--confirm"});
  EXPECT_NE(nothing.err.find("no old copy"), std::string::npos) << nothing.err;
  auto wait = cli({"tenant", "move", "--tenant", h->tenant, "--to", "eu", "--wait", "soon"});
  EXPECT_NE(wait.err.find("--wait must be a whole number"), std::string::npos) << wait.err;
  // A copy the target already holds (an earlier, unconfirmed move) stops the move, and
  // the tenant stays writable where it was.
  soci::session eu_owner(soci::postgresql, eu.owner_url.substr(eu.owner_url.find(':') + 1));
  eu_owner << "INSERT INTO tenants (id, name, version, created_at, updated_at) VALUES ('" + h->tenant +
                  "', 'stale', 1, 0, 0)";
  auto stale = cli({"tenant", "move", "--tenant", h->tenant, "--to", "eu"});
  EXPECT_NE(stale.exit_code, 0);
  EXPECT_NE(stale.err.find("already holds 1 rows of tenants"), std::string::npos) << stale.err;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", "Ainda aqui"}}).status, 201);
  EXPECT_EQ(home_count("SELECT count(*) FROM tenant_placements WHERE state = 'moving'"), 0);
}

// Two operators move the same tenant at once: one move marks it and copies, the other
// is refused without touching it.
TEST_P(TenantMove, OfTwoMovesAtOnceOneWins) {
  ASSERT_EQ(call("POST", "/v1/accounts", admin, {{"legal_name", "Disputada"}}).status, 201);
  ProcessResult results[2];
  std::thread first([&] { results[0] = cli({"tenant", "move", "--tenant", h->tenant, "--to", "eu"}); });
  std::thread second([&] { results[1] = cli({"tenant", "move", "--tenant", h->tenant, "--to", "eu"}); });
  first.join();
  second.join();
  int won = (results[0].exit_code == 0) + (results[1].exit_code == 0);
  EXPECT_EQ(won, 1) << results[0].err << "\n---\n" << results[1].err;
  const ProcessResult& lost = results[0].exit_code == 0 ? results[1] : results[0];
  EXPECT_TRUE(lost.err.find("another move") != std::string::npos || lost.err.find("did not finish") != std::string::npos ||
              lost.err.find("already lives") != std::string::npos || lost.err.find("old copy") != std::string::npos)
      << lost.err;
  EXPECT_EQ(eu_count(of_tenant("accounts")), 1);
  EXPECT_EQ(home_count("SELECT count(*) FROM tenant_placements WHERE state = 'moving'"), 0);
  EXPECT_EQ(call("GET", "/v1/accounts", admin).body["data"].size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(PostgreSQL, TenantMove, testing::Values(store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
