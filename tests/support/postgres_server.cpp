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

PostgresServer::PostgresServer() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nucleo-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for the PostgreSQL test server");
  root_ = pattern;
  try {
    start();
    create_roles();
  } catch (...) {
    shutdown();
    throw;
  }
}

PostgresServer::~PostgresServer() {
  shutdown();
}

void PostgresServer::shutdown() {
  if (running_) {
    run_process(
        {"/bin/sh", "-c", as_postgres_user(postgres_bin_dir() + "/pg_ctl -D " + root_ + "/data -m immediate -w stop")},
        {}, std::chrono::seconds(30));
    running_ = false;
  }
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  root_.clear();
}

std::string PostgresServer::as_postgres_user(const std::string& command) const {
  if (geteuid() != 0) return command;
  return "runuser -u postgres -- " + command;
}

void PostgresServer::start() {
  if (!std::filesystem::exists(postgres_bin_dir() + "/initdb"))
    throw std::runtime_error("PostgreSQL binaries not found in " + postgres_bin_dir() +
                             " (install postgresql-15 or set NUCLEO_PG_BIN)");
  if (geteuid() == 0) chown_to_postgres(root_);
  const std::string bin = postgres_bin_dir();
  run_checked(
      {"/bin/sh", "-c",
       as_postgres_user(bin + "/initdb -D " + root_ + "/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync") +
           " >" + root_ + "/initdb.log 2>&1 || { cat " + root_ + "/initdb.log; exit 1; }"});

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

PostgresDatabase PostgresServer::create_database() {
  std::lock_guard lock(mutex_);
  PostgresDatabase db;
  db.name = "nucleo_test_" + std::to_string(getpid()) + "_" + std::to_string(++databases_created_);
  {
    soci::session admin(soci::postgresql, url_for("postgres", "postgres"));
    admin << "CREATE DATABASE " + db.name + " OWNER nucleo_owner";
  }
  db.owner_url = "postgresql:" + url_for("nucleo_owner", db.name);
  db.app_url = "postgresql:" + url_for("nucleo_app", db.name);
  db.worker_url = "postgresql:" + url_for("nucleo_worker", db.name);
  db.superuser_url = "postgresql:" + url_for("postgres", db.name);
  return db;
}

}  // namespace nucleo::test
