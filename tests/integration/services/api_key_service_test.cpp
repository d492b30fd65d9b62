#include "kernel/services/api_key_service.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/digest.hpp"
#include "kernel/services/auth_service.hpp"
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
  auto created = keys.create(ctx, {{"name", "k"}, {"role", "auditor"}, {"user_id", user}});
  auto revoked = keys.revoke(ctx, created.key["id"]).record;
  EXPECT_EQ(revoked["revoked_at"], "2026-07-01T00:00:00Z");
  keys.revoke(ctx, created.key["id"]);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'api_key.revoked'"), 1);
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
  keys.revoke(ctx, created.key["id"]);
  EXPECT_EQ(auth.authenticate(created.secret, "", Timestamp{t0.micros + 4'000'000}).tenant_id, h.tenant);
  EXPECT_THROW(auth.authenticate(created.secret, "", Timestamp{t0.micros + 5'000'000}), Error);

  auto second = keys.create(ctx, {{"name", "k2"}, {"role", "sales"}, {"user_id", user}});
  EXPECT_NO_THROW(auth.authenticate(second.secret, "", t0));
  keys.revoke(ctx, second.key["id"]);
  cache.clear();
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
