#include "kernel/store/script.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <memory>
#include <string>

#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::store {
namespace {

void execute_postgresql(soci::session& session, const std::string& sql) {
  PGconn* conn = postgresql_connection(session);
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), &PQclear);
  auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  std::string message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn);
  const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (PQstatus(conn) != CONNECTION_OK) throw Error(ErrorCode::unavailable, "database connection lost: " + message);
  throw Error(ErrorCode::internal,
              "SQL script failed" + (state ? " [" + std::string(state) + "]" : std::string()) + ": " + message);
}

void execute_sqlite(soci::session& session, const std::string& sql) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  char* message = nullptr;
  int rc = sqlite_api::sqlite3_exec(backend->conn_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return;
  std::string text = message ? message : sqlite_api::sqlite3_errstr(rc);
  sqlite_api::sqlite3_free(message);
  throw Error(ErrorCode::internal, "SQL script failed: " + text);
}

}  // namespace

void execute_script(soci::session& session, Backend backend, std::string_view sql) {
  std::string text(sql);
  if (backend == Backend::postgresql)
    execute_postgresql(session, text);
  else
    execute_sqlite(session, text);
}

}  // namespace nucleo::store
