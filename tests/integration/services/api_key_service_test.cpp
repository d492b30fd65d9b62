#include "kernel/services/api_key_service.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/digest.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/auth_service.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class ApiKeyServiceTest : public testing::TestWithParam<store::Backend> {
 protected:
  ApiKeyServiceTest() : h(GetParam()), keys(h.deps()), ctx(h.context(h.tenant)) {
    user = h.records().create(ctx, "user", {{"name", "Ana"}, {"email", "ana@x.com"}, {"role", "sales"}}).record["id"];
  }
  test::ServiceHarness h;
  ApiKeyService keys;
  CallContext ctx;
  std::string user;
};

TEST_P(ApiKeyServiceTest, SecretIsShownOnceAndStoredOnlyAsSha256) {
  auto created =
      keys.create(ctx, {{"name", "crm-sync"}, {"role", "sales"}, {"user_id", user}, {"scopes", {"deals:read"}}});
  EXPECT_EQ(created.secret.rfind("nuc_", 0), 0u);
  EXPECT_EQ(key_id_of_secret(created.secret), created.key["id"]);
  EXPECT_FALSE(created.key.contains("secret_hash"));
  EXPECT_EQ(h.count("SELECT count(*) FROM api_keys WHERE secret_hash = '" + sha256_hex(created.secret) + "'"), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM api_keys WHERE secret_hash LIKE '%" + created.secret.substr(31, 20) + "%'"),
            0);
  for (const auto& k : keys.list(ctx)) EXPECT_FALSE(k.contains("secret_hash"));
  // Neither the audit trail nor the outbox sees the hash.
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE CAST(changes AS text) LIKE '%secret_hash%'"), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE CAST(data AS text) LIKE '%secret_hash%'"), 0);
}

TEST_P(ApiKeyServiceTest, UserKeysNeedAUserAndIntegrationKeysTheIntegrationRole) {
  EXPECT_THROW(keys.create(ctx, {{"name", "x"}, {"role", "sales"}}), Error);
  EXPECT_THROW(keys.create(ctx, {{"name", "x"}, {"role", "sales"}, {"integration", true}}), Error);
  EXPECT_THROW(keys.create(ctx, {{"name", "x"}, {"role", "root"}, {"user_id", user}}), Error);
  EXPECT_THROW(keys.create(ctx, {{"name", "x"}, {"role", "sales"}, {"user_id", user}, {"scopes", {"DROP TABLE"}}}),
               Error);
  auto integration = keys.create(ctx, {{"name", "whatsapp"}, {"role", "integration"}, {"integration", true}});
  EXPECT_EQ(integration.key["integration"], true);
  EXPECT_EQ(h.count("SELECT count(*) FROM api_keys"), 1);
}

TEST_P(ApiKeyServiceTest, RevokeIsAuditedOnce) {
  auto created = keys.create(ctx, {{"name", "k"}, {"role", "sales"}, {"user_id", user}});
  auto revoked = keys.revoke(ctx, created.key["id"]).record;
  EXPECT_EQ(revoked["revoked_at"], "2026-07-01T00:00:00Z");
  keys.revoke(ctx, created.key["id"]);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'api_key.revoked'"), 1);
}

// docs/api.md, "Roles and permissions": a user key acts for its user and never outranks them — not when it is
// created, and not after the user is demoted.
TEST_P(ApiKeyServiceTest, AUserKeyNeverOutranksItsUser) {
  try {
    keys.create(ctx, {{"name", "x"}, {"role", "admin"}, {"user_id", user}});
    ADD_FAILURE() << "an admin key for a sales user";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    ASSERT_FALSE(e.fields().empty());
    EXPECT_EQ(e.fields()[0].field, "role");
  }
  EXPECT_THROW(keys.create(ctx, {{"name", "x"}, {"role", "auditor"}, {"user_id", user}}), Error);

  std::string boss = h.records().create(ctx, "user", {{"name", "Bia"}, {"email", "bia@x.com"}, {"role", "admin"}}).record["id"];
  auto admin_key = keys.create(ctx, {{"name", "a"}, {"role", "admin"}, {"user_id", boss}});
  auto auditor_key = keys.create(ctx, {{"name", "b"}, {"role", "auditor"}, {"user_id", boss}});
  AuthService auth(h.deps());
  Timestamp now = h.clock.now();
  EXPECT_EQ(auth.authenticate(admin_key.secret, "", now).principal->role, "admin");
  EXPECT_EQ(auth.authenticate(auditor_key.secret, "", now).principal->role, "auditor");
  // Another admin first: the tenant's last active admin is never demoted (issue #26).
  h.records().create(ctx, "user", {{"name", "Caio"}, {"email", "caio@x.com"}, {"role", "admin"}});
  h.records().update(ctx, "user", boss, {{"role", "sales"}});
  // The admin key now acts as sales; the auditor key, whose role sales does not include
  // (auditors read everything) nor is included by, is refused.
  auto demoted = auth.authenticate(admin_key.secret, "", now).principal;
  EXPECT_EQ(demoted->role, "sales");
  EXPECT_TRUE(demoted->restricted_to_owners);
  try {
    auth.authenticate(auditor_key.secret, "", now);
    ADD_FAILURE() << "an auditor key of a sales user";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
  }
}

// Effective permission of On-Behalf-Of = the key's scopes ∩ the user's role.
TEST_P(ApiKeyServiceTest, OnBehalfOfKeepsTheIntegrationKeysScopes) {
  std::string boss = h.records().create(ctx, "user", {{"name", "Bia"}, {"email", "bia@x.com"}, {"role", "admin"}}).record["id"];
  auto reader = keys.create(ctx, {{"name", "sync"}, {"role", "integration"}, {"integration", true}, {"scopes", {"deals:read"}}});
  AuthService auth(h.deps());
  CallContext as_boss = ctx;
  auto who = auth.authenticate(reader.secret, boss, h.clock.now());
  as_boss.principal = who.principal;
  as_boss.actor = who.actor;
  EXPECT_EQ(who.principal->role, "admin");
  RecordService records(h.deps());
  EXPECT_NO_THROW(records.list(as_boss, "deal", store::RecordQuery{}));
  auto refused = [&](auto&& call) {
    try {
      call();
      return false;
    } catch (const Error& e) {
      return e.code() == ErrorCode::forbidden;
    }
  };
  EXPECT_TRUE(refused([&] { records.create(as_boss, "user", {{"name", "X"}, {"email", "x@x.com"}, {"role", "admin"}}); }));
  EXPECT_TRUE(refused([&] { records.list(as_boss, "account", store::RecordQuery{}); }));
  EXPECT_TRUE(refused([&] { keys.create(as_boss, {{"name", "y"}, {"role", "admin"}, {"user_id", boss}}); }));
  EXPECT_TRUE(refused([&] { require_role(as_boss, {"admin"}, "audit", "audit:read"); }));
  // A sales user's deals through a "*" key: the role bounds it.
  auto everything = keys.create(ctx, {{"name", "all"}, {"role", "integration"}, {"integration", true}, {"scopes", {"*"}}});
  CallContext as_sales = ctx;
  as_sales.principal = auth.authenticate(everything.secret, user, h.clock.now()).principal;
  EXPECT_TRUE(refused([&] { records.create(as_sales, "user", {{"name", "Y"}, {"email", "y@x.com"}, {"role", "admin"}}); }));
  EXPECT_FALSE(refused([&] { records.list(as_sales, "deal", store::RecordQuery{}); }));
}

TEST_P(ApiKeyServiceTest, MalformedSecretsNameNoKey) {
  EXPECT_EQ(key_id_of_secret(""), "");
  EXPECT_EQ(key_id_of_secret("nuc_short"), "");
  EXPECT_EQ(key_id_of_secret("xyz_01m80gv734f4vsedcjrkk2f12z_" + std::string(64, 'a')), "");
}

// The cache answers for a key while fresh, so a revocation made elsewhere is seen only
// once the entry is older than the ttl (or at once after clear()).
TEST_P(ApiKeyServiceTest, CachedCredentialsLiveTheirTtlThenTheDatabaseDecides) {
  auto created = keys.create(ctx, {{"name", "k"}, {"role", "sales"}, {"user_id", user}});
  CredentialCache cache(std::chrono::seconds(5));
  AuthService auth(h.deps(), &cache);
  Timestamp t0{1'800'000'000'000'000};
  EXPECT_EQ(auth.authenticate(created.secret, "", t0).tenant_id, h.tenant);
  // Revoked by another node (here: straight in the database): honoured once the ttl passes.
  h.database().write(h.tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(), "UPDATE api_keys SET revoked_at = :p0 WHERE tenant_id = :p1 AND id = :p2",
                   {t0.micros, h.tenant, created.key["id"].get<std::string>()});
  });
  EXPECT_EQ(auth.authenticate(created.secret, "", Timestamp{t0.micros + 4'000'000}).tenant_id, h.tenant);
  EXPECT_THROW(auth.authenticate(created.secret, "", Timestamp{t0.micros + 5'000'000}), Error);

  // Revoked through this process's services: honoured by the next request (ADR 0008).
  auto second = keys.create(ctx, {{"name", "k2"}, {"role", "sales"}, {"user_id", user}});
  EXPECT_NO_THROW(auth.authenticate(second.secret, "", t0));
  keys.revoke(ctx, second.key["id"]);
  EXPECT_THROW(auth.authenticate(second.secret, "", t0), Error);
}

TEST_P(ApiKeyServiceTest, CacheNeverOutlivesTheKeyNorRemembersFailures) {
  Timestamp t0{1'800'000'000'000'000};
  auto created = keys.create(ctx, {{"name", "k"}, {"role", "sales"}, {"user_id", user},
                                   {"expires_at", format_rfc3339(Timestamp{t0.micros + 1'000'000})}});
  CredentialCache cache(std::chrono::seconds(60));
  AuthService auth(h.deps(), &cache);
  EXPECT_NO_THROW(auth.authenticate(created.secret, "", t0));
  EXPECT_THROW(auth.authenticate(created.secret, "", Timestamp{t0.micros + 1'000'000}), Error);  // expired

  // A wrong secret for a real key id is refused every time, cached success or not.
  std::string wrong = created.secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_THROW(auth.authenticate(wrong, "", t0), Error);

  CredentialCache off(std::chrono::seconds(0));
  AuthService uncached(h.deps(), &off);
  auto live = keys.create(ctx, {{"name", "k3"}, {"role", "sales"}, {"user_id", user}});
  EXPECT_NO_THROW(uncached.authenticate(live.secret, "", t0));
  keys.revoke(ctx, live.key["id"]);
  EXPECT_THROW(uncached.authenticate(live.secret, "", t0), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiKeyServiceTest,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql), test::BackendName());

}  // namespace
}  // namespace nucleo::services
