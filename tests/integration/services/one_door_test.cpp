// The one door (docs/architecture.md, "One door for writes"): the write log that every
// PostgreSQL end-to-end test checks at its end must name a write that bypasses the
// services — or its silence would prove nothing.
#include <gtest/gtest.h>

#include "kernel/store/sql.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

TEST(OneDoor, TheWriteLogNamesAWriteThatBypassesTheServices) {
  test::ServiceHarness h(store::Backend::postgresql);
  auto ctx = h.context(h.tenant);
  std::string id = h.records().create(ctx, "account", {{"legal_name", "Acme Sementes"}}).record["id"];
  h.records().update(ctx, "account", id, {{"trade_name", "Acme"}}, std::nullopt);
  EXPECT_EQ(test::unaudited_writes(h.db.superuser_url), "");

  h.database().write(h.tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(), "UPDATE accounts SET trade_name = 'Behind the door' WHERE tenant_id = :p0 AND id = :p1",
                   {h.tenant, id});
  });
  EXPECT_EQ(test::unaudited_writes(h.db.superuser_url),
            "UPDATE accounts as nucleo_app in 1 transaction(s) without an audit event and a domain event\n");
}

}  // namespace
}  // namespace nucleo::services
