#include "tests/support/postgres_server.hpp"

#include <pwd.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace nucleo::test {
namespace {

std::string postgres_bin_dir() {
  if (const char* dir = std::getenv("NUCLEO_PG_BIN")) return dir;
  return "/usr/lib/postgresql/15/bin";
}

void chown_to_postgres(const std::string& path) {
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("no 'postgres' system user: install postgresql-15");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    throw std::runtime_error("cannot chown " + path + " to postgres");
}

}  // namespace

PostgresServer& PostgresServer::shared() {
  // Function-local static: started on first use, stopped by its destructor at exit.
  static PostgresServer server;
  return server;
}

namespace {
std::string new_root() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nucleo-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for the PostgreSQL test server");
  return pattern;
}
}  // namespace

PostgresServer::PostgresServer() : root_(new_root()) {
  try {
    start(nullptr);
    create_roles();
  } catch (...) {
    shutdown();
    throw;
  }
}

PostgresServer::PostgresServer(ReplicaOf of) : root_(new_root()) {
  try {
    start(of.primary);
  } catch (...) {
    shutdown();
    throw;
  }
}

std::unique_ptr<PostgresServer> PostgresServer::start_replica() const {
  return std::unique_ptr<PostgresServer>(new PostgresServer(ReplicaOf{this}));
}

void PostgresServer::stop() {
  if (!running_) return;
  run_process(
      {"/bin/sh", "-c", as_postgres_user(postgres_bin_dir() + "/pg_ctl -D " + root_ + "/data -m immediate -w stop")},
      {}, std::chrono::seconds(30));
  running_ = false;
}

PostgresServer::~PostgresServer() {
  shutdown();
}

void PostgresServer::shutdown() {
  stop();
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  root_.clear();
}

std::string PostgresServer::as_postgres_user(const std::string& command) const {
  if (geteuid() != 0) return command;
  return "runuser -u postgres -- " + command;
}

void PostgresServer::start(const PostgresServer* primary) {
  if (!std::filesystem::exists(postgres_bin_dir() + "/initdb"))
    throw std::runtime_error("PostgreSQL binaries not found in " + postgres_bin_dir() +
                             " (install postgresql-15 or set NUCLEO_PG_BIN)");
  if (geteuid() == 0) chown_to_postgres(root_);
  const std::string bin = postgres_bin_dir();
  // A replica is the primary's base backup (-c fast: without it pg_basebackup waits for
  // a spread checkpoint, a minute and more), told by -R (standby.signal and
  // primary_conninfo) to stream the rest; initdb's trust rules let 127.0.0.1 replicate.
  std::string create = primary ? bin + "/pg_basebackup -h 127.0.0.1 -p " + std::to_string(primary->port_) +
                                     " -U postgres -D " + root_ + "/data -R -X stream --no-sync -c fast"
                               : bin + "/initdb -D " + root_ + "/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync";
  run_checked({"/bin/sh", "-c",
               as_postgres_user(create) + " >" + root_ + "/initdb.log 2>&1 || { cat " + root_ + "/initdb.log; exit 1; }"});

  // A free port can be taken between our probe and the server's bind: retry a few times.
  std::string last_error;
  for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
    port_ = free_port();
    std::string options = "-p " + std::to_string(port_) + " -k " + root_ +
                          " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                          " -c full_page_writes=off -c max_connections=200";
    auto result = run_process({"/bin/sh", "-c",
                               as_postgres_user(bin + "/pg_ctl -D " + root_ + "/data -l " + root_ +
                                                "/server.log -w -t 60 -o '" + options + "' start")},
                              {}, std::chrono::seconds(90));
    if (result.exit_code == 0)
      running_ = true;
    else
      last_error = result.out + result.err + read_file(root_ + "/server.log");
  }
  if (!running_) throw std::runtime_error("cannot start the PostgreSQL test server:\n" + last_error);
}

void PostgresServer::create_roles() {
  soci::session admin(soci::postgresql, url_for("postgres", "postgres"));
  admin << "CREATE ROLE nucleo_owner LOGIN";
  admin << "CREATE ROLE nucleo_app LOGIN";
  admin << "CREATE ROLE nucleo_worker LOGIN BYPASSRLS";
}

std::string PostgresServer::url_for(const std::string& role, const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + role + " dbname=" + database;
}

namespace {

// The write log behind unaudited_writes(): a row trigger on every table the migrations
// create (an event trigger attaches it) notes which transaction wrote which table, as
// which role. Test databases only; SECURITY DEFINER so the application roles, which
// cannot see the log, still fill it.
void install_write_log(soci::session& db) {
  db << "CREATE SCHEMA nucleo_test";
  db << "GRANT USAGE ON SCHEMA nucleo_test TO PUBLIC";
  db << "CREATE TABLE nucleo_test.writes (txid bigint NOT NULL, table_name text NOT NULL, operation text NOT NULL,"
        " role text NOT NULL, PRIMARY KEY (txid, table_name, operation, role))";
  db << "CREATE FUNCTION nucleo_test.log_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
        " SET search_path = pg_catalog AS $$ BEGIN"
        " INSERT INTO nucleo_test.writes VALUES (txid_current(), TG_TABLE_NAME, TG_OP, session_user)"
        " ON CONFLICT DO NOTHING; RETURN NULL; END $$";
  db << "CREATE FUNCTION nucleo_test.watch_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS $$"
        " DECLARE t record; BEGIN"
        " FOR t IN SELECT object_identity FROM pg_event_trigger_ddl_commands()"
        "   WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' AND schema_name <> 'nucleo_test' LOOP"
        "   EXECUTE format('CREATE TRIGGER nucleo_test_write_log AFTER INSERT OR UPDATE OR DELETE ON %s"
        "     FOR EACH ROW EXECUTE FUNCTION nucleo_test.log_write()', t.object_identity);"
        " END LOOP; END $$";
  db << "CREATE EVENT TRIGGER nucleo_test_watch ON ddl_command_end WHEN TAG IN ('CREATE TABLE')"
        " EXECUTE FUNCTION nucleo_test.watch_new_tables()";
}

// Tables whose rows are bookkeeping of the audit trail, the event and job machinery or
// the request cache — not business data — and so are written without an audit event of
// their own (docs/architecture.md, "One door for writes").
const char* const bookkeeping_tables[] = {
    "schema_migrations",  "audit_pending",        "audit_log",           "audit_tree_nodes",
    "audit_tree_heads",   "audit_checkpoints",    "audit_personal_values", "audit_sealed_values",
    "privacy_subject_keys", "outbox",             "event_subscribers",   "event_failures",
    "jobs",               "webhook_deliveries",   "idempotency_records",
    "plugin_schemas", "plugin_collections", "plugin_purposes",  // what loaded plugins declared: kernel bookkeeping, no tenant's data
    "imports", "import_chunks", "import_errors",  // an import job's file, progress and failed rows (its records are audited)
    "privacy_reports",  // a subject report's progress and bytes (its request and generation are audited)
    "retention_runs",  // a retention run's start and summary (what it erased is audited record by record)
    "automation_firings",  // that a rule fired for an event (what it did is audited action by action; a refusal too)
    "deployment_keys",  // the secrets key's fingerprint, recorded once by the first process (no tenant's data)
};

}  // namespace

std::string unaudited_writes(const std::string& superuser_url) {
  soci::session db(soci::postgresql, superuser_url.substr(superuser_url.find(':') + 1));
  std::string excluded;
  for (const char* table : bookkeeping_tables) excluded += std::string(excluded.empty() ? "'" : ", '") + table + "'";
  soci::rowset<soci::row> rows = db.prepare <<
      "SELECT w.table_name, w.operation, w.role, count(DISTINCT w.txid) FROM nucleo_test.writes w"
      " WHERE w.role IN ('nucleo_app', 'nucleo_worker') AND w.table_name NOT IN (" + excluded + ")"
      " AND NOT (EXISTS (SELECT 1 FROM nucleo_test.writes a WHERE a.txid = w.txid AND a.table_name = 'audit_pending'"
      "                  AND a.operation = 'INSERT')"
      "      AND EXISTS (SELECT 1 FROM nucleo_test.writes o WHERE o.txid = w.txid AND o.table_name = 'outbox'"
      "                  AND o.operation = 'INSERT'))"
      " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
  std::string out;
  for (const auto& r : rows)
    out += r.get<std::string>(1) + " " + r.get<std::string>(0) + " as " + r.get<std::string>(2) + " in " +
           std::to_string(r.get<long long>(3)) + " transaction(s) without an audit event and a domain event\n";
  return out;
}

PostgresDatabase PostgresServer::create_database() {
  std::lock_guard lock(mutex_);
  PostgresDatabase db;
  db.name = "nucleo_test_" + std::to_string(getpid()) + "_" + std::to_string(++databases_created_);
  {
    soci::session admin(soci::postgresql, url_for("postgres", "postgres"));
    admin << "CREATE DATABASE " + db.name + " OWNER nucleo_owner";
  }
  {
    soci::session database(soci::postgresql, url_for("postgres", db.name));
    install_write_log(database);
  }
  db.owner_url = "postgresql:" + url_for("nucleo_owner", db.name);
  db.app_url = "postgresql:" + url_for("nucleo_app", db.name);
  db.worker_url = "postgresql:" + url_for("nucleo_worker", db.name);
  db.superuser_url = "postgresql:" + url_for("postgres", db.name);
  return db;
}

}  // namespace nucleo::test
