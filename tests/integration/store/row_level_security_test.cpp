// PostgreSQL only: row-level security is the second fence around a tenant's rows.
// Each test deliberately omits `WHERE tenant_id` to show the fence holds even when
// a repository forgets the first one.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::store {
namespace {

using namespace std::chrono_literals;

class RowLevelSecurity : public testing::Test {
 protected:
  void SetUp() override {
    db_ = test::make_test_database(Backend::postgresql);
    soci::session owner;
    open_session(owner, db_.owner());
    migrate(owner, Backend::postgresql, clock_);
    worker_ = std::make_unique<Database>(db_.worker(), 2, 2s);
    app_ = std::make_unique<Database>(db_.app(), 2, 2s);
    tenant_a_ = seed_tenant("Tenant A", 2);
    tenant_b_ = seed_tenant("Tenant B", 3);
  }

  std::string seed_tenant(const std::string& name, int accounts) {
    std::string tenant = generate_id(id_prefix::tenant, clock_.now());
    worker_->write("", [&](Transaction& tx) {
      long long now = clock_.now().micros;
      tx.session() << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:id, :n, :created, :updated)",
          soci::use(tenant), soci::use(name), soci::use(now), soci::use(now);
      for (int i = 0; i < accounts; ++i) {
        std::string id = generate_id(id_prefix::account, clock_.now());
        std::string legal = name + " account " + std::to_string(i);
        tx.session() << "INSERT INTO accounts (id, tenant_id, legal_name, created_at, updated_at)"
                        " VALUES (:id, :t, :l, :created, :updated)",
            soci::use(id), soci::use(tenant), soci::use(legal), soci::use(now), soci::use(now);
      }
    });
    return tenant;
  }

  // Through store::query, as the services read: a read transaction's statements carry the
  // tenant themselves (ADR 0038).
  static int count(Database& db, const std::string& tenant, const std::string& sql) {
    return db.read(tenant, [&](Transaction& tx) {
      int n = 0;
      query(tx.session(), sql, {}, [&](const Row& r) { n = static_cast<int>(required_integer(r, 0)); });
      return n;
    });
  }
  int app_count(const std::string& tenant, const std::string& sql) { return count(*app_, tenant, sql); }
  int worker_count(const std::string& sql) { return count(*worker_, "", sql); }

  void expect_refused(const std::string& tenant, const std::string& sql, ErrorCode code) {
    try {
      app_->write(tenant, [&](Transaction& tx) { tx.session() << sql; });
      ADD_FAILURE() << "nucleo_app was allowed: " << sql;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
    }
  }

  test::TestDatabase db_;
  SystemClock clock_;
  std::unique_ptr<Database> worker_, app_;
  std::string tenant_a_, tenant_b_;
};

TEST_F(RowLevelSecurity, ReadWithoutTenantFilterSeesOnlyOwnRows) {
  EXPECT_EQ(app_count(tenant_a_, "SELECT count(*) FROM accounts"), 2);
  EXPECT_EQ(app_count(tenant_b_, "SELECT count(*) FROM accounts"), 3);
  EXPECT_EQ(app_count(tenant_a_, "SELECT count(*) FROM tenants"), 1);
}

TEST_F(RowLevelSecurity, NoTenantSetSeesNothing) {
  EXPECT_EQ(app_count("", "SELECT count(*) FROM accounts"), 0);
  EXPECT_EQ(app_count("", "SELECT count(*) FROM tenants"), 0);
}

TEST_F(RowLevelSecurity, TenantSettingEndsWithTheTransaction) {
  EXPECT_EQ(app_count(tenant_a_, "SELECT count(*) FROM accounts"), 2);
  // Same pooled session (pool of 2, but check both): the next transaction without a
  // tenant must not inherit A's setting.
  EXPECT_EQ(app_count("", "SELECT count(*) FROM accounts"), 0);
  EXPECT_EQ(app_count("", "SELECT count(*) FROM accounts"), 0);
}

TEST_F(RowLevelSecurity, UpdateWithoutTenantFilterTouchesOnlyOwnRows) {
  int changed = app_->write(tenant_a_, [](Transaction& tx) {
    soci::statement st = (tx.session().prepare << "UPDATE accounts SET legal_name = 'hijacked'");
    st.execute(true);
    return static_cast<int>(st.get_affected_rows());
  });
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(worker_count("SELECT count(*) FROM accounts WHERE legal_name = 'hijacked'"), 2);
  EXPECT_EQ(worker_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + tenant_b_ +
                         "' AND legal_name LIKE 'Tenant B%'"),
            3);
}

TEST_F(RowLevelSecurity, DeleteWithoutTenantFilterTouchesOnlyOwnRows) {
  app_->write(tenant_a_, [](Transaction& tx) { tx.session() << "DELETE FROM accounts"; });
  EXPECT_EQ(worker_count("SELECT count(*) FROM accounts"), 3);
}

TEST_F(RowLevelSecurity, InsertIntoAnotherTenantIsRefused) {
  expect_refused(tenant_a_,
                 "INSERT INTO accounts (id, tenant_id, legal_name, created_at, updated_at) VALUES ('acc_x', '" +
                     tenant_b_ + "', 'Intruder', 1, 1)",
                 ErrorCode::forbidden);
  EXPECT_EQ(worker_count("SELECT count(*) FROM accounts WHERE legal_name = 'Intruder'"), 0);
}

TEST_F(RowLevelSecurity, MovingARowToAnotherTenantIsRefused) {
  expect_refused(tenant_a_, "UPDATE accounts SET tenant_id = '" + tenant_b_ + "'", ErrorCode::forbidden);
  EXPECT_EQ(worker_count("SELECT count(*) FROM accounts WHERE tenant_id = '" + tenant_a_ + "'"), 2);
}

TEST_F(RowLevelSecurity, AppRoleCannotCreateTenantsNorLiftTheFence) {
  expect_refused(tenant_a_, "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('ten_x', 'X', 1, 1)",
                 ErrorCode::forbidden);
  expect_refused(tenant_a_, "ALTER TABLE accounts DISABLE ROW LEVEL SECURITY", ErrorCode::forbidden);
  expect_refused(tenant_a_, "DROP POLICY tenant_isolation ON accounts", ErrorCode::forbidden);
}

TEST_F(RowLevelSecurity, RolesHaveTheIntendedPowers) {
  auto flag = [](Database& db, const std::string& column) {
    return db.read("", [&](Transaction& tx) {
      std::string v;
      query(tx.session(),
            "SELECT CASE WHEN " + column + " THEN 'yes' ELSE 'no' END FROM pg_roles WHERE rolname = current_user", {},
            [&](const Row& r) { v = required_text(r, 0); });
      return v;
    });
  };
  EXPECT_EQ(flag(*app_, "rolbypassrls"), "no");
  EXPECT_EQ(flag(*app_, "rolsuper"), "no");
  EXPECT_EQ(flag(*worker_, "rolbypassrls"), "yes");
  EXPECT_EQ(flag(*worker_, "rolsuper"), "no");
  // The app role owns nothing: tables belong to nucleo_owner.
  EXPECT_EQ(
      app_count("", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'nucleo_owner'"), 0);
}

}  // namespace
}  // namespace nucleo::store
