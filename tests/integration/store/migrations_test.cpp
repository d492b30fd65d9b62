#include "kernel/store/migrations.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kernel/domain/error.hpp"
#include "kernel/store/connection_pool.hpp"
#include "kernel/store/script.hpp"
#include "kernel/store/transaction.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::store {
namespace {

using test::TestDatabase;
using Json = nlohmann::json;

class MigrationsTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::make_test_database(GetParam());
    open_session(owner_, db_.owner());
  }
  int count(const std::string& sql) {
    int n = 0;
    owner_ << sql, soci::into(n);
    return n;
  }
  bool table_exists(const std::string& name) {
    if (GetParam() == Backend::sqlite)
      return count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'") == 1;
    return count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '" + name + "'") == 1;
  }

  TestDatabase db_;
  soci::session owner_;
  SystemClock clock_;
};

TEST_P(MigrationsTest, BundledMigrationsAreNumberedFromOneWithoutGaps) {
  const auto& all = bundled_migrations(GetParam());
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(all[i].sql.empty());
  }
  // Both dialects ship the same numbered steps.
  const auto& other = bundled_migrations(GetParam() == Backend::sqlite ? Backend::postgresql : Backend::sqlite);
  ASSERT_EQ(all.size(), other.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].name, other[i].name);
}

TEST_P(MigrationsTest, EmptyDatabaseHasEverythingPending) {
  auto status = schema_status(owner_, GetParam());
  EXPECT_EQ(status.current_version, 0);
  EXPECT_EQ(status.pending.size(), bundled_migrations(GetParam()).size());
  EXPECT_FALSE(status.is_current());
}

TEST_P(MigrationsTest, MigrateAppliesAllAndRecordsEach) {
  auto applied = migrate(owner_, GetParam(), clock_);
  EXPECT_EQ(applied.size(), bundled_migrations(GetParam()).size());
  EXPECT_TRUE(schema_status(owner_, GetParam()).is_current());
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), static_cast<int>(applied.size()));
  EXPECT_TRUE(table_exists("tenants"));
  EXPECT_TRUE(table_exists("accounts"));
}

TEST_P(MigrationsTest, MigrateIsIdempotent) {
  migrate(owner_, GetParam(), clock_);
  int recorded = count("SELECT count(*) FROM schema_migrations");
  long long first_applied_at = 0;
  owner_ << "SELECT applied_at FROM schema_migrations WHERE version = 1", soci::into(first_applied_at);

  auto again = migrate(owner_, GetParam(), clock_);
  EXPECT_TRUE(again.empty());
  auto third = migrate(owner_, GetParam(), clock_);
  EXPECT_TRUE(third.empty());

  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), recorded);
  long long applied_at = 0;
  owner_ << "SELECT applied_at FROM schema_migrations WHERE version = 1", soci::into(applied_at);
  EXPECT_EQ(applied_at, first_applied_at);
  EXPECT_TRUE(schema_status(owner_, GetParam()).is_current());
}

// A script that fails half-way inside a transaction leaves nothing behind: this is
// what makes a failed migration run all-or-nothing.
TEST_P(MigrationsTest, FailedScriptLeavesNothingHalfWritten) {
  {
    Transaction tx(owner_, GetParam(), TxMode::write, "");
    EXPECT_THROW(execute_script(owner_, GetParam(),
                                "CREATE TABLE half_written (x integer);\n"
                                "INSERT INTO half_written VALUES (1);\n"
                                "THIS IS NOT SQL;\n"),
                 Error);
  }
  EXPECT_FALSE(table_exists("half_written"));
}

// 0032: a contact's free-form consent becomes the consent ledger's first entries — a true
// flag a grant, a false one a revocation, each key a purpose of its tenant — and the
// field then holds the ledger's state; values a ledger cannot hold are dropped.
TEST_P(MigrationsTest, LegacyConsentFlagsBecomeLedgerEntries) {
  const Backend backend = GetParam();
  {
    Transaction tx(owner_, backend, TxMode::write, "");
    owner_ << "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)";
    for (const auto& m : bundled_migrations(backend)) {
      if (m.version >= 32) break;
      execute_script(owner_, backend, m.sql);
      owner_ << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, 0)", soci::use(m.version),
          soci::use(m.name);
    }
    owner_ << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('ten_a', 'A', 1, 1)";
    owner_ << "INSERT INTO contacts (id, tenant_id, name, consent, created_at, updated_at) VALUES "
              "('con_1', 'ten_a', 'Maria', '{\"whatsapp\": true, \"email\": false, \"note\": \"ok\", \"Bad Key\": true}', 5, 7),"
              " ('con_2', 'ten_a', 'João', '{}', 5, 5)";
    tx.commit();
  }
  auto applied = migrate(owner_, backend, clock_);
  ASSERT_EQ(applied.size(), bundled_migrations(backend).size() - 31);
  EXPECT_EQ(count("SELECT count(*) FROM privacy_purposes WHERE tenant_id = 'ten_a'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM consent_entries WHERE contact_id = 'con_1' AND purpose = 'whatsapp'"
                  " AND action = 'grant' AND legal_basis = 'consent' AND source_type = 'migration' AND recorded_at = 7"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM consent_entries WHERE purpose = 'email' AND action = 'revoke'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM consent_entries"), 2);
  std::string consent;
  owner_ << "SELECT consent FROM contacts WHERE id = 'con_1'", soci::into(consent);
  EXPECT_EQ(Json::parse(consent), (Json{{"whatsapp", "granted"}, {"email", "revoked"}}));
  owner_ << "SELECT consent FROM contacts WHERE id = 'con_2'", soci::into(consent);
  EXPECT_EQ(Json::parse(consent), Json::object());
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrationsTest, testing::Values(Backend::sqlite, Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::store
