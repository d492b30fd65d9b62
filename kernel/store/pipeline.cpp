#include "kernel/store/pipeline.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::store {
namespace {

PGconn* connection_of(soci::session& session) { return postgresql_connection(session); }

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// What a statement costs nothing to carry: the transaction refuses writes, as BEGIN READ
// ONLY did, and row-level security sees the tenant. Local settings: the implicit
// transaction's end takes them away.
const char* const read_only = "SELECT set_config('transaction_read_only', 'on', true)";
const char* const read_only_as_tenant =
    "SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', $1, true)";
// The same, for a statement whose plan must follow its values (a search: a rare term takes
// the trigram index, a common one the ordered scan): kept prepared, so it is parsed and
// rewritten once, but planned again each time.
const char* const read_only_planned_each_time =
    "SELECT set_config('transaction_read_only', 'on', true), set_config('plan_cache_mode', 'force_custom_plan', true)";
const char* const read_only_as_tenant_planned_each_time =
    "SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', $1, true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)";

const char* prelude_text(bool as_tenant, bool planned_each_time) {
  if (planned_each_time) return as_tenant ? read_only_as_tenant_planned_each_time : read_only_planned_each_time;
  return as_tenant ? read_only_as_tenant : read_only;
}

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

// Values as libpq takes them: text where it lies, integers written out, NULL as null.
struct ParameterTexts {
  std::vector<const char*> pointers;
  std::vector<std::string> integers;

  ParameterTexts(const SqlValue* values, std::size_t count) {
    pointers.reserve(count);
    integers.reserve(count);  // never reallocated: the pointers into it stay valid
    for (std::size_t i = 0; i < count; ++i) {
      if (const auto* text = std::get_if<std::string>(&values[i]))
        pointers.push_back(text->c_str());
      else if (const auto* number = std::get_if<std::int64_t>(&values[i]))
        pointers.push_back(integers.emplace_back(std::to_string(*number)).c_str());
      else
        pointers.push_back(nullptr);
    }
  }
  ParameterTexts(const ParameterTexts&) = delete;
  ParameterTexts& operator=(const ParameterTexts&) = delete;
};

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

PipelinedStatements::Statement& PipelinedStatements::prelude(bool as_tenant, bool planned_each_time) {
  const int which = (as_tenant ? 1 : 0) + (planned_each_time ? 2 : 0);
  static const char* const names[] = {"nucleo_read", "nucleo_read_as_tenant", "nucleo_read_planned",
                                      "nucleo_read_as_tenant_planned"};
  Statement& p = preludes_[which];
  if (p.name.empty()) p = Statement{names[which], prelude_text(as_tenant, planned_each_time), false};
  return p;
}

namespace {

// One statement of a pipeline: kept prepared on the connection (its Parse sent on first
// use), or sent unnamed and planned with its values.
struct Step {
  PipelinedStatements::Statement* kept;
  std::string unnamed;  // its text, when not kept
  std::vector<const char*> parameters;
  bool prepares = false;

  bool send(PGconn* conn) {
    const int count = static_cast<int>(parameters.size());
    if (!kept) return PQsendQueryParams(conn, unnamed.c_str(), count, nullptr, parameters.data(), nullptr, nullptr, 0);
    prepares = !kept->prepared;
    if (prepares && !PQsendPrepare(conn, kept->name.c_str(), kept->text.c_str(), 0, nullptr)) return false;
    return PQsendQueryPrepared(conn, kept->name.c_str(), count, parameters.data(), nullptr, nullptr, 0);
  }
  Result receive(PGconn* conn, Failure& failure) {
    if (prepares) kept->prepared = read_command(conn, failure) != nullptr;
    return read_command(conn, failure);
  }
  // The server forgot the statement (a pooler's DISCARD ALL), or its plan no longer fits
  // a changed table: prepare it afresh.
  bool forgotten(PGconn* conn, const Failure& failure) {
    if (!kept || !kept->prepared || prepares) return false;
    if (failure.sqlstate == "0A000") PQclear(PQexec(conn, ("DEALLOCATE " + kept->name).c_str()));
    if (failure.sqlstate != "26000" && failure.sqlstate != "0A000") return false;
    kept->prepared = false;
    return true;
  }
};

struct Outcome {
  Failure failure;
  Result rows{nullptr, &PQclear};
  bool sent = false;
};

Outcome run_once(soci::session& session, PGconn* conn, Step& prelude, Step& statement) {
  Outcome out;
  if (PQenterPipelineMode(conn) != 1) throw_connection_lost(conn);
  out.sent = prelude.send(conn) && statement.send(conn);
  out.sent = PQpipelineSync(conn) == 1 && out.sent;
  if (!out.sent && PQstatus(conn) != CONNECTION_OK) throw_connection_lost(conn);
  prelude.receive(conn, out.failure);
  out.rows = statement.receive(conn, out.failure);
  Result sync(PQgetResult(conn), &PQclear);
  if (PQstatus(conn) != CONNECTION_OK) throw_connection_lost(conn);
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) out.failure.note(sync.get());
  leave_pipeline(session, conn);
  return out;
}

}  // namespace

std::int64_t run_pipelined(soci::session& session, const std::string& tenant_id, const std::string& sql,
                           PipelinedStatements* kept, bool planned_each_time, const std::vector<SqlValue>& values,
                           const std::function<void(const Row&)>* on_row) {
  PGconn* conn = connection_of(session);
  const bool as_tenant = !tenant_id.empty();
  Step prelude{kept ? &kept->prelude(as_tenant, planned_each_time) : nullptr,
               kept ? "" : prelude_text(as_tenant, planned_each_time), {}};
  if (as_tenant) prelude.parameters.push_back(tenant_id.c_str());
  Step statement{kept ? &kept->of(session, sql) : nullptr, kept ? "" : numbered_parameters(sql), {}};
  ParameterTexts texts(values.data(), values.size());
  statement.parameters = texts.pointers;
  Outcome out = run_once(session, conn, prelude, statement);
  // A statement the server forgot: the read simply goes again, preparing it afresh.
  bool again = prelude.forgotten(conn, out.failure);
  again = statement.forgotten(conn, out.failure) || again;
  if (again) out = run_once(session, conn, prelude, statement);
  if (!out.failure.message.empty())
    throw soci::postgresql_soci_error(out.failure.message, out.failure.sqlstate.c_str());
  if (!out.sent || !out.rows)
    throw Error(ErrorCode::internal, "a pipelined read could not be sent: " + trimmed(PQerrorMessage(conn)));
  // The rows are handed on only now, out of pipeline mode: a reader may run another
  // statement on this session for each row.
  if (on_row)
    for (int i = 0, n = PQntuples(out.rows.get()); i < n; ++i) (*on_row)(Row(out.rows.get(), i));
  return std::atoll(PQcmdTuples(out.rows.get()));
}

namespace {

// Throws what a failed `result` says (or that the connection was lost); nothing when it
// succeeded.
void throw_unless_ok(PGconn* conn, const PGresult* result) {
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  if (PQstatus(conn) != CONNECTION_OK) throw_connection_lost(conn);
  Failure failure;
  failure.note(result);
  if (!result) failure.message = "the statement could not be sent: " + trimmed(PQerrorMessage(conn));
  throw soci::postgresql_soci_error(failure.message, failure.sqlstate.c_str());
}

}  // namespace

std::int64_t execute_prepared(soci::session& session, PipelinedStatements& kept, const std::string& sql,
                              const SqlValue* values, std::size_t count) {
  PGconn* conn = connection_of(session);
  PipelinedStatements::Statement& statement = kept.of(session, sql);
  if (!statement.prepared) {
    Result prepared(PQprepare(conn, statement.name.c_str(), statement.text.c_str(), 0, nullptr), &PQclear);
    throw_unless_ok(conn, prepared.get());
    statement.prepared = true;
  }
  ParameterTexts texts(values, count);
  Result result(PQexecPrepared(conn, statement.name.c_str(), static_cast<int>(count), texts.pointers.data(), nullptr,
                               nullptr, 0),
                &PQclear);
  // The server forgot it (a pooler's DISCARD ALL): the next use prepares it afresh.
  if (result && PQresultStatus(result.get()) == PGRES_FATAL_ERROR) {
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string(state) == "26000") statement.prepared = false;
  }
  throw_unless_ok(conn, result.get());
  return std::atoll(PQcmdTuples(result.get()));
}

pg_conn* postgresql_connection(soci::session& session) {
  return static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_;
}

}  // namespace nucleo::store
