#include <soci/session.h>

#include <ostream>

#include "kernel/app/commands.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/store/connection_pool.hpp"
#include "kernel/store/migrations.hpp"

namespace nucleo::app {
namespace {

void print_status(const store::SchemaStatus& status, const store::DatabaseUrl& url, std::ostream& out) {
  out << "schema version " << status.current_version << " of " << status.latest_version << " on " << url.display;
  if (!status.pending.empty()) {
    out << "; pending:";
    for (int v : status.pending) out << " " << v;
  }
  out << "\n";
}

// One database: its status, or its pending migrations applied. False: --status found some pending.
bool migrate_one(const store::DatabaseUrl& owner_url, bool status_only, std::ostream& out) {
  soci::session session;
  store::open_session(session, owner_url);
  if (status_only) {
    auto status = store::schema_status(session, owner_url.backend);
    print_status(status, owner_url, out);
    return status.is_current();
  }
  SystemClock clock;
  auto applied = store::migrate(session, owner_url.backend, clock, [&](const store::Migration& m) {
    out << "applied " << store::migration_label(m) << "\n";
  });
  if (applied.empty()) out << "nothing to apply\n";
  print_status(store::schema_status(session, owner_url.backend), owner_url, out);
  return true;
}

int run_migrate(const ParsedArgs& args, std::ostream& out) {
  auto config = load_configuration(args.value("config"), process_environment());
  StoreSettings settings = read_store_settings(config);
  bool current = migrate_one(settings.owner_url, args.has("status"), out);
  // Every cluster a tenant may live on has the same schema (ADR 0048).
  for (const auto& cluster : settings.clusters) current = migrate_one(cluster.owner_url, args.has("status"), out) && current;
  return current ? exit_ok : exit_failure;
}

}  // namespace

CommandSpec migrate_command() {
  CommandSpec c;
  c.name = "migrate";
  c.summary = "apply pending schema migrations";
  c.description =
      "Applies every pending migration to the database of store.owner_url (store.url when\n"
      "unset), all in one transaction, and records them in schema_migrations. Running it\n"
      "again on a current schema changes nothing; then the same on every other cluster\n"
      "(clusters.<name>.owner_url). With --status, only reports and exits 1 when\n"
      "migrations are pending on any.";
  c.options = {config_option(), {"status", "", "report the schema version and pending migrations; apply nothing"}};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_migrate(args, out); };
  return c;
}

}  // namespace nucleo::app
