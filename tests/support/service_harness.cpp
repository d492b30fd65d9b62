#include "tests/support/service_harness.hpp"

#include <soci/soci.h>

#include <filesystem>
#include <fstream>
#include <iterator>

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
    store::query(tx.session(), sql, {}, [&](const store::Row& r) { n = static_cast<int>(store::required_integer(r, 0)); });
    return n;
  });
}

std::vector<Json> ServiceHarness::json_column(const std::string& sql) {
  store::Database& reader = worker_ ? *worker_ : *app_;
  return reader.read("", [&](store::Transaction& tx) {
    std::vector<Json> out;
    store::query(tx.session(), sql, {},
                 [&](const store::Row& row) { out.push_back(Json::parse(store::required_text(row, 0))); });
    return out;
  });
}

std::vector<std::string> ServiceHarness::places_holding(const std::string& text) {
  std::vector<std::string> places;
  if (backend == store::Backend::sqlite) {
    for (const auto& [suffix, name] : {std::pair{"", "database file"}, std::pair{"-wal", "wal file"}}) {
      std::ifstream in(db.app().sqlite_path + suffix, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(text) != std::string::npos) places.push_back(name);
    }
    return places;
  }
  soci::session superuser;
  store::open_session(superuser, store::parse_database_url(db.superuser_url));
  std::vector<std::string> tables;
  store::query(superuser, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", {},
               [&](const store::Row& r) { tables.push_back(store::required_text(r, 0)); });
  for (const auto& table : tables) {
    std::int64_t n = 0;
    store::query(superuser, "SELECT count(*) FROM \"" + table + "\" x WHERE strpos(x::text, :p0) > 0", {text},
                 [&](const store::Row& r) { n = store::required_integer(r, 0); });
    if (n > 0) places.push_back(table);
  }
  std::string data_directory, database_oid;
  store::query(superuser, "SELECT current_setting('data_directory'), oid::text FROM pg_database"
                          " WHERE datname = current_database()",
               {}, [&](const store::Row& r) {
                 data_directory = store::required_text(r, 0);
                 database_oid = store::required_text(r, 1);
               });
  superuser << "CHECKPOINT";
  for (const auto& entry : std::filesystem::directory_iterator(data_directory + "/base/" + database_oid)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(text) != std::string::npos) places.push_back("file " + entry.path().filename().string());
  }
  return places;
}

void ServiceHarness::vacuum() {
  if (backend != store::Backend::postgresql) return;
  soci::session superuser;
  store::open_session(superuser, store::parse_database_url(db.superuser_url));
  superuser << "VACUUM FULL";
}

}  // namespace nucleo::test
