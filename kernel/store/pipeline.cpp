#include "kernel/store/pipeline.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "kernel/domain/error.hpp"

namespace nucleo::store {
namespace {

PGconn* connection_of(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_;
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// What a statement costs nothing to carry: the transaction refuses writes, as BEGIN READ
// ONLY did, and row-level security sees the tenant. Local settings: the implicit
// transaction's end takes them away.
const char* const read_only = "SELECT set_config('transaction_read_only', 'on', true)";
const char* const read_only_as_tenant =
    "SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', $1, true)";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

[[noreturn]] void throw_connection_lost(PGconn* conn) {
  throw soci::postgresql_soci_error("database connection lost: " + trimmed(PQerrorMessage(conn)), "08006");
}

// The first failure in a pipeline: what the statement after it got was only "aborted".
struct Failure {
  std::string message, sqlstate;
  void note(const PGresult* result) {
    if (!message.empty()) return;
    message = trimmed(PQresultErrorMessage(result));
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    sqlstate = state != nullptr && std::string(state).size() == 5 ? state : "XX000";
    if (message.empty()) message = "the pipelined statement got an answer out of step";
  }
};

// Reads one command's results, up to the NULL that ends them: its rows (or count), if it
// succeeded.
Result read_command(PGconn* conn, Failure& failure) {
  Result kept(nullptr, &PQclear);
  while (PGresult* raw = PQgetResult(conn)) {
    Result result(raw, &PQclear);
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
      kept = std::move(result);
    else if (status != PGRES_PIPELINE_ABORTED)
      failure.note(raw);
  }
  return kept;
}

// Leaves pipeline mode, after the Sync's result. A connection that cannot (results the
// protocol did not announce) is started afresh rather than handed on out of step.
void leave_pipeline(soci::session& session, PGconn* conn) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (PQexitPipelineMode(conn) == 1) return;
    while (PGresult* raw = PQgetResult(conn)) PQclear(raw);
  }
  forget_prepared_statements(session);
  PQreset(conn);
  throw Error(ErrorCode::internal, "a pipelined read left the database connection out of step; it was reset");
}

}  // namespace

std::string numbered_parameters(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  std::size_t number = 0;
  for (std::size_t i = 0; i < sql.size();) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // quoted text or identifier, doubled quotes included
      std::size_t end = sql.find(c, i + 1);
      end = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, end - i);
      i = end;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      out += "::";
      i += 2;
    } else if (c == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
      std::size_t end = i + 1;
      while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) ++end;
      out += "$" + std::to_string(++number);
      i = end;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

PipelinedStatements::Statement& PipelinedStatements::of(soci::session& session, const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  if (statements_.size() >= capacity) {
    // Generated SQL varies (list filters): start over, and let the server forget them too.
    std::string deallocate;
    for (const auto& [text, statement] : statements_)
      if (statement.prepared) deallocate += "DEALLOCATE " + statement.name + ";";
    statements_.clear();
    if (!deallocate.empty()) PQclear(PQexec(connection_of(session), deallocate.c_str()));
  }
  Statement fresh{"nucleo_p" + std::to_string(++next_name_), numbered_parameters(sql), false};
  return statements_.emplace(sql, std::move(fresh)).first->second;
}

std::int64_t run_pipelined(soci::session& session, const std::string& tenant_id, const std::string& sql,
                           PipelinedStatements::Statement* prepared, const std::vector<SqlValue>& values,
                           const std::function<void(const Row&)>* on_row) {
  PGconn* conn = connection_of(session);
  std::vector<std::string> integers;
  integers.reserve(values.size());  // the pointers below stay valid
  std::vector<const char*> parameters;
  parameters.reserve(values.size());
  for (const auto& value : values) {
    if (const auto* text = std::get_if<std::string>(&value))
      parameters.push_back(text->c_str());
    else if (const auto* number = std::get_if<std::int64_t>(&value))
      parameters.push_back(integers.emplace_back(std::to_string(*number)).c_str());
    else
      parameters.push_back(nullptr);
  }
  const std::string unnamed = prepared ? std::string() : numbered_parameters(sql);
  const int count = static_cast<int>(parameters.size());
  const char* tenant = tenant_id.c_str();

  if (PQenterPipelineMode(conn) != 1) throw_connection_lost(conn);
  bool prepares = prepared != nullptr && !prepared->prepared;
  bool sent = tenant_id.empty() ? PQsendQueryParams(conn, read_only, 0, nullptr, nullptr, nullptr, nullptr, 0)
                                : PQsendQueryParams(conn, read_only_as_tenant, 1, nullptr, &tenant, nullptr, nullptr, 0);
  if (prepares) sent = sent && PQsendPrepare(conn, prepared->name.c_str(), prepared->text.c_str(), 0, nullptr);
  if (prepared)
    sent = sent && PQsendQueryPrepared(conn, prepared->name.c_str(), count, parameters.data(), nullptr, nullptr, 0);
  else
    sent = sent && PQsendQueryParams(conn, unnamed.c_str(), count, nullptr, parameters.data(), nullptr, nullptr, 0);
  sent = PQpipelineSync(conn) == 1 && sent;
  if (!sent && PQstatus(conn) != CONNECTION_OK) throw_connection_lost(conn);

  Failure failure;
  read_command(conn, failure);
  if (prepares) prepared->prepared = read_command(conn, failure) != nullptr;
  Result rows = read_command(conn, failure);
  Result sync(PQgetResult(conn), &PQclear);
  if (PQstatus(conn) != CONNECTION_OK) throw_connection_lost(conn);
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) failure.note(sync.get());
  leave_pipeline(session, conn);
  // A statement the server no longer has (a pooler discarded it), or whose plan no longer
  // fits the schema, is prepared afresh by the next call.
  if (prepared && prepared->prepared && (failure.sqlstate == "26000" || failure.sqlstate == "0A000")) {
    if (failure.sqlstate == "0A000") PQclear(PQexec(conn, ("DEALLOCATE " + prepared->name).c_str()));
    prepared->prepared = false;
  }
  if (!failure.message.empty()) throw soci::postgresql_soci_error(failure.message, failure.sqlstate.c_str());
  if (!sent || !rows) throw Error(ErrorCode::internal, "a pipelined read could not be sent: " + trimmed(PQerrorMessage(conn)));
  // The rows are handed on only now, out of pipeline mode: a reader may run another
  // statement on this session for each row.
  if (on_row)
    for (int i = 0, n = PQntuples(rows.get()); i < n; ++i) (*on_row)(Row(rows.get(), i));
  return std::atoll(PQcmdTuples(rows.get()));
}

}  // namespace nucleo::store
