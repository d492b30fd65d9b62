#include "kernel/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "kernel/store/database_error.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/store/script.hpp"

namespace nucleo::store {

namespace {

// The tenant id as an SQL literal. Ids are lowercase base32 with an underscore, so a
// check of the alphabet is all the quoting needed; anything else is refused.
std::string tenant_literal(const std::string& tenant_id) {
  bool plain = !tenant_id.empty() && tenant_id.size() <= 64;
  for (char c : tenant_id) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!plain) throw Error(ErrorCode::internal, "refusing a malformed tenant id for row-level security");
  return "'" + tenant_id + "'";
}

thread_local Transaction* running = nullptr;

// Multi-row INSERTs of 64, 32, …, 1 rows: a few statement texts per table, each kept
// prepared, however many rows a transaction appends. On SQLite, of about 128 values at
// most: binding a named parameter there searches the statement's names one by one, so a
// statement's binding cost grows with the square of its values (a profile of an import:
// 40 % of its time in sqlite3VListNumToName), while a statement without a round trip
// costs little.
std::size_t most_rows_per_insert(Backend backend, std::size_t width) {
  return backend == Backend::sqlite ? std::max<std::size_t>(1, 128 / std::max<std::size_t>(width, 1)) : 64;
}

}  // namespace

Transaction* Transaction::running_on(const soci::session& session) {
  for (Transaction* tx = running; tx; tx = tx->outer_)
    if (&tx->session_ == &session) return tx;
  return nullptr;
}

Transaction::Appended& Transaction::rows_of(const std::string& table, const std::string& columns, std::size_t width,
                                            bool referenced) {
  auto it = std::find_if(appended_.begin(), appended_.end(), [&](const Appended& a) { return a.table == table; });
  if (it == appended_.end()) it = appended_.insert(appended_.end(), Appended{table, columns, width, {}, referenced});
  if (width != it->width || columns != it->columns || referenced != it->referenced)
    throw Error(ErrorCode::internal, "rows appended to " + table + " disagree on their columns");
  return *it;
}

void Transaction::append(const std::string& table, const std::string& columns, std::vector<SqlValue> row) {
  auto& rows = rows_of(table, columns, row.size(), false);
  for (auto& v : row) rows.values.push_back(std::move(v));
}

void Transaction::append_referenced(const std::string& table, const std::string& columns, std::vector<SqlValue> row) {
  // Referenced rows of one table at a time: what references them can only be sent after.
  for (const auto& a : appended_)
    if (a.referenced && a.table != table) {
      send_appended_rows_where([](const Appended& waiting) { return waiting.referenced; });
      break;
    }
  auto& rows = rows_of(table, columns, row.size(), true);
  for (auto& v : row) rows.values.push_back(std::move(v));
}

std::size_t Transaction::savepoint() {
  if (pipelined_) {  // a savepoint needs a transaction block: the read opens one after all
    pipelined_ = false;
    begin(TxMode::read);
  }
  // Rows appended before the savepoint go now, so rolling back to it cannot take them.
  send_appended_rows();
  std::size_t n = ++savepoints_;
  session_ << ("SAVEPOINT nucleo_" + std::to_string(n));
  return n;
}

void Transaction::rollback_to(std::size_t n) {
  if (n != savepoints_) throw Error(ErrorCode::internal, "savepoints are rolled back to innermost first");
  session_ << ("ROLLBACK TO SAVEPOINT nucleo_" + std::to_string(n));
  appended_.clear();  // all appended since savepoint n (which sent what came before)
  release(n);
}

void Transaction::release(std::size_t n) {
  if (n != savepoints_) throw Error(ErrorCode::internal, "savepoints are released innermost first");
  // Rows appended since go first: one the database refuses fails while the savepoint can
  // still take back what came with it.
  send_appended_rows();
  // ROLLBACK TO keeps the savepoint; RELEASE ends it either way.
  session_ << ("RELEASE SAVEPOINT nucleo_" + std::to_string(n));
  --savepoints_;
}

// What a statement could see or depend on goes before it: every referenced row (rows it
// writes may name them) and the rows of each table it names. The rest wait on for the
// commit: sending them too would cost a write that runs any statement after creating a
// record one single-row INSERT per appended table (an e-mail sync paid five a message).
void Transaction::send_appended_rows_for(const std::string& sql) {
  if (sending_) return;  // the INSERTs below name only tables they are sending
  send_appended_rows_where(
      [&](const Appended& a) { return a.referenced || sql.find(a.table) != std::string::npos; });
}

void Transaction::send_appended_rows() {
  send_appended_rows_where([](const Appended&) { return true; });
}

void Transaction::send_appended_rows_where(const std::function<bool(const Appended&)>& due) {
  // Runs before every statement: most find nothing due, and must cost nothing then.
  if (std::none_of(appended_.begin(), appended_.end(), [&](const Appended& a) { return due(a); })) return;
  std::vector<Appended> waiting, kept;
  for (auto& a : appended_) (due(a) ? waiting : kept).push_back(std::move(a));
  // Referenced rows first: what references them follows.
  std::stable_partition(waiting.begin(), waiting.end(), [](const Appended& a) { return a.referenced; });
  appended_.swap(kept);
  sending_ = true;
  struct Sent {
    bool& flag;
    ~Sent() { flag = false; }
  } sent_guard{sending_};
  for (auto& a : waiting) {
    std::size_t rows = a.values.size() / a.width, sent = 0;
    while (sent < rows) {
      std::size_t n = most_rows_per_insert(backend_, a.width);
      while (n > rows - sent) n /= 2;
      std::string sql = "INSERT INTO " + a.table + " " + a.columns + " VALUES ";
      for (std::size_t r = 0, p = 0; r < n; ++r) {
        sql += r ? ", (" : "(";
        for (std::size_t c = 0; c < a.width; ++c) sql += (c ? ", " : "") + placeholder(p++);
        sql += ")";
      }
      execute_values(session_, sql, a.values.data() + sent * a.width, n * a.width);
      sent += n;
    }
  }
}

Transaction::Transaction(soci::session& session, Backend backend, TxMode mode, const std::string& tenant_id)
    : session_(session), backend_(backend), tenant_id_(tenant_id), outer_(running) {
  running = this;
  if (backend == Backend::postgresql && mode == TxMode::read) {
    // Nothing to send yet: each statement carries the tenant itself (ADR 0038).
    if (!tenant_id.empty()) {
      try {
        tenant_literal(tenant_id);
      } catch (...) {
        running = outer_;
        throw;
      }
    }
    pipelined_ = true;
    return;
  }
  try {
    begin(mode);
  } catch (...) {
    running = outer_;  // no destructor runs for a constructor that throws
    throw;
  }
}

void Transaction::begin(TxMode mode) {
  try {
    if (backend_ == Backend::sqlite) {
      session_ << (mode == TxMode::write ? "BEGIN IMMEDIATE" : "BEGIN");
      open_ = true;
      return;
    }
    // One round trip: BEGIN and the tenant setting travel as one simple-protocol query.
    std::string begin = mode == TxMode::write      ? "BEGIN"
                        : mode == TxMode::snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                                   : "BEGIN READ ONLY";
    if (!tenant_id_.empty()) begin += "; SELECT set_config('nucleo.tenant_id', " + tenant_literal(tenant_id_) + ", true)";
    open_ = true;
    execute_script(session_, backend_, begin);
  } catch (...) {
    if (open_) {
      try {
        session_ << "ROLLBACK";
      } catch (...) {
      }
    }
    open_ = false;
    rethrow_as_nucleo_error("cannot begin a transaction");
  }
}

void Transaction::commit() {
  if (pipelined_) return;  // each statement committed on its own
  try {
    send_appended_rows();
    session_ << "COMMIT";
    open_ = false;
  } catch (...) {
    open_ = false;
    try {
      session_ << "ROLLBACK";
    } catch (...) {
    }
    rethrow_as_nucleo_error("cannot commit the transaction");
  }
}

Transaction::~Transaction() {
  running = outer_;
  if (!open_) return;
  try {
    session_ << "ROLLBACK";
  } catch (...) {
    // The session is broken; the pool reconnects it on its next lease.
  }
}

}  // namespace nucleo::store
