#include "kernel/store/migrations.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>

#include "kernel/domain/error.hpp"
#include "kernel/store/database_error.hpp"
#include "kernel/store/embedded_migrations.hpp"
#include "kernel/store/script.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::store {
namespace {

// Any constant works, as long as every Nucleo migrator uses the same one.
constexpr long long migration_lock_key = 0x6e75636c656f;  // "nucleo"

// "sqlite/0001_foundation.sql" -> {1, "foundation"}
Migration parse_migration_file(const EmbeddedFile& file) {
  std::string_view name = file.name;
  name = name.substr(name.find('/') + 1);
  auto underscore = name.find('_');
  auto dot = name.rfind(".sql");
  Migration m;
  m.version = std::stoi(std::string(name.substr(0, underscore)));
  m.name = std::string(name.substr(underscore + 1, dot - underscore - 1));
  m.sql = file.content;
  return m;
}

std::vector<Migration> load(Backend backend) {
  std::string folder = std::string(to_string(backend)) + "/";
  std::vector<Migration> out;
  for (const auto& file : embedded_migration_files())
    if (file.name.substr(0, folder.size()) == folder) out.push_back(parse_migration_file(file));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

bool migrations_table_exists(soci::session& session, Backend backend) {
  int exists = 0;
  if (backend == Backend::sqlite)
    session << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        soci::into(exists);
  else
    session << "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END", soci::into(exists);
  return exists != 0;
}

std::vector<int> applied_versions(soci::session& session, Backend backend) {
  std::vector<int> versions;
  if (!migrations_table_exists(session, backend)) return versions;
  // One-time statement (store::query): a named prepared one would not survive a
  // transaction pooler between the nodes and PostgreSQL (store.prepared_statements).
  query(session, "SELECT version FROM schema_migrations ORDER BY version", {},
        [&](const store::Row& r) { versions.push_back(static_cast<int>(required_integer(r, 0))); });
  return versions;
}

void create_migrations_table(soci::session& session) {
  session << "CREATE TABLE schema_migrations ("
             " version integer PRIMARY KEY,"
             " name text NOT NULL,"
             " applied_at bigint NOT NULL)";
}

}  // namespace

std::string migration_label(const Migration& m) {
  std::string number = std::to_string(m.version);
  return std::string(number.size() < 4 ? 4 - number.size() : 0, '0') + number + "_" + m.name;
}

const std::vector<Migration>& bundled_migrations(Backend backend) {
  static const std::map<Backend, std::vector<Migration>> all = {{Backend::sqlite, load(Backend::sqlite)},
                                                                {Backend::postgresql, load(Backend::postgresql)}};
  return all.at(backend);
}

SchemaStatus schema_status(soci::session& session, Backend backend) {
  SchemaStatus status;
  std::vector<int> applied;
  try {
    applied = applied_versions(session, backend);
  } catch (...) {
    rethrow_as_nucleo_error("cannot read schema_migrations");
  }
  if (!applied.empty()) status.current_version = applied.back();
  for (const auto& m : bundled_migrations(backend)) {
    status.latest_version = m.version;
    if (!std::binary_search(applied.begin(), applied.end(), m.version)) status.pending.push_back(m.version);
  }
  return status;
}

std::vector<Migration> migrate(soci::session& session, Backend backend, const Clock& clock,
                               const std::function<void(const Migration&)>& on_applied) {
  std::vector<Migration> applied_now;
  try {
    Transaction tx(session, backend, TxMode::write, "");
    if (backend == Backend::postgresql) {
      long long key = migration_lock_key;
      session << "SELECT pg_advisory_xact_lock(:key)", soci::use(key);
    }
    if (!migrations_table_exists(session, backend)) create_migrations_table(session);
    auto applied = applied_versions(session, backend);
    for (const auto& m : bundled_migrations(backend)) {
      if (std::binary_search(applied.begin(), applied.end(), m.version)) continue;
      try {
        execute_script(session, backend, m.sql);
      } catch (const Error& e) {
        throw Error(ErrorCode::internal,
                    "migration " + migration_label(m) + " failed (nothing was applied): " + e.what());
      }
      long long now = clock.now().micros;
      session << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)", soci::use(m.version),
          soci::use(m.name), soci::use(now);
      applied_now.push_back(m);
    }
    tx.commit();
  } catch (...) {
    rethrow_as_nucleo_error("migration failed");
  }
  for (const auto& m : applied_now)
    if (on_applied) on_applied(m);
  return applied_now;
}

}  // namespace nucleo::store
