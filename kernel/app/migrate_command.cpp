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

int run_migrate(const ParsedArgs& args, std::ostream& out) {
  auto config = load_configuration(args.value("config"), process_environment());
  StoreSettings settings = read_store_settings(config);
  soci::session session;
  store::open_session(session, settings.owner_url);
  if (args.has("status")) {
    auto status = store::schema_status(session, settings.owner_url.backend);
    print_status(status, settings.owner_url, out);
    return status.is_current() ? exit_ok : exit_failure;
  }
  SystemClock clock;
  auto applied = store::migrate(session, settings.owner_url.backend, clock, [&](const store::Migration& m) {
    out << "applied " << store::migration_label(m) << "\n";
  });
  if (applied.empty()) out << "nothing to apply\n";
  print_status(store::schema_status(session, settings.owner_url.backend), settings.owner_url, out);
  return exit_ok;
}

}  // namespace

CommandSpec migrate_command() {
  CommandSpec c;
  c.name = "migrate";
  c.summary = "apply pending schema migrations";
  c.description =
      "Applies every pending migration to the database of store.owner_url (store.url when\n"
      "unset), all in one transaction, and records them in schema_migrations. Running it\n"
      "again on a current schema changes nothing. With --status, only reports and exits 1\n"
      "when migrations are pending.";
  c.options = {config_option(), {"status", "", "report the schema version and pending migrations; apply nothing"}};
  c.run = [](const ParsedArgs& args, std::ostream& out, std::ostream&) { return run_migrate(args, out); };
  return c;
}

}  // namespace nucleo::app
