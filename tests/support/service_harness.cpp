#include "tests/support/service_harness.hpp"

#include <soci/soci.h>

#include "kernel/store/migrations.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::test {

using namespace std::chrono_literals;

ServiceHarness::ServiceHarness(store::Backend b, std::size_t pool_size, std::chrono::milliseconds lease_timeout)
    : backend(b), db(make_test_database(b)) {
  soci::session owner;
  store::open_session(owner, db.owner());
  store::migrate(owner, backend, clock);
  app_ = std::make_unique<store::Database>(db.app(), pool_size, lease_timeout);
  if (backend == store::Backend::postgresql) worker_ = std::make_unique<store::Database>(db.worker(), 2, 10s);
  tenant = create_tenant("Tenant under test");
}

services::CallContext ServiceHarness::context(const std::string& tenant_id) const {
  services::CallContext ctx;
  ctx.tenant_id = tenant_id;
  ctx.actor = {"key", "key_test", ""};
  ctx.request_id = "req_test";
  ctx.source_ip = "127.0.0.1";
  ctx.reason = "test";
  ctx.clock = &clock;
  return ctx;
}

std::string ServiceHarness::create_tenant(const std::string& name) {
  return services::TenantService(deps()).create(context(""), name)["id"];
}

int ServiceHarness::count(const std::string& sql) {
  store::Database& reader = worker_ ? *worker_ : *app_;
  return reader.read("", [&](store::Transaction& tx) {
    int n = 0;
    tx.session() << sql, soci::into(n);
    return n;
  });
}

std::vector<Json> ServiceHarness::json_column(const std::string& sql) {
  store::Database& reader = worker_ ? *worker_ : *app_;
  return reader.read("", [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), sql, {},
                 [&](const soci::row& row) { out.push_back(Json::parse(*store::text_at(row, 0))); });
    return out;
  });
}

}  // namespace nucleo::test
