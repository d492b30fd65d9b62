#pragma once

#include <soci/session.h>

#include <functional>
#include <string>
#include <vector>

#include "kernel/store/database_url.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/store/work_signal.hpp"

namespace nucleo::store {

// `snapshot` reads many statements from one snapshot of the database (PostgreSQL:
// REPEATABLE READ READ ONLY in a transaction block; SQLite: a read transaction, a
// snapshot under WAL): what a plugin's bulk read needs so that a deal moved while it
// reads is seen in one stage, not in both or neither (ADR 0044).
enum class TxMode { read, write, snapshot };

// One database transaction on a leased session, rolled back unless commit() is called.
//
// SQLite write transactions start with BEGIN IMMEDIATE: SOCI's deferred BEGIN would let
// two writers both read and then fail with SQLITE_BUSY when they upgrade (docs/architecture.md §3).
// On PostgreSQL, a non-empty tenant id is set with set_config('nucleo.tenant_id', …,
// true) in the same round trip as BEGIN, so row-level security fences the transaction
// even if a query forgets its `WHERE tenant_id`. The id is spliced as a literal only
// after checking it holds nothing but the id alphabet [a-z0-9_].
//
// A read transaction on PostgreSQL sends no BEGIN and no COMMIT: each of its statements
// (store::query, store::execute) travels pipelined behind the tenant and read-only
// settings, one round trip, in an implicit transaction of its own (ADR 0038). At READ
// COMMITTED — every transaction here — each statement takes its own snapshot anyway, so
// nothing a reader can observe changes. A statement sent on session() directly would
// run outside it, without a tenant: row-level security then shows it no row.
class Transaction {
 public:
  Transaction(soci::session& session, Backend backend, TxMode mode, const std::string& tenant_id);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Flushes what append() holds, then commits.
  void commit();
  soci::session& session() { return session_; }
  Backend backend() const { return backend_; }
  const std::string& tenant_id() const { return tenant_id_; }
  // A PostgreSQL read transaction whose statements are pipelined, each on its own (above).
  bool pipelines_statements() const { return pipelined_; }

  // A row for a table the transaction only appends to (the audit's pending events, their
  // sealed values, the outbox): it waits, and the rows of a table go in multi-row INSERTs
  // when the transaction commits — a batch of writes pays a few statements for them, not
  // a few per write (docs/architecture.md, "One door for writes"). Any statement of this
  // transaction that names the table (a read, a DELETE) sends them first, so nothing can
  // tell they waited. `columns` is the table's column list, "(a, b, c)"; `row` one value
  // per column, always the same list for a table.
  void append(const std::string& table, const std::string& columns, std::vector<SqlValue> row);
  // A new row of a table other rows reference (a record: an account a contact names). It
  // waits only until the transaction's next statement of any kind, or a row of another
  // such table, so a row that references it always finds it sent (ADR 0030).
  void append_referenced(const std::string& table, const std::string& columns, std::vector<SqlValue> row);

  // Background work this transaction creates (an audit event, an outbox row, a job): the
  // loop that does it is woken once the transaction commits (Database::announce_work_to).
  // Work announced in a savepoint rolled back later still wakes the loop, which finds
  // nothing: a wake-up too many is harmless, one too few is not.
  void announce(Work work) { announced_ |= kind(work); }
  WorkKinds announced() const { return announced_; }

  // A savepoint inside the transaction, and going back to it: what was written since is
  // undone, rows appended since included. Savepoints nest; each is released or rolled
  // back to once, innermost first; releasing one sends the rows appended since.
  std::size_t savepoint();
  void rollback_to(std::size_t savepoint);
  void release(std::size_t savepoint);

  // The transaction this thread runs on `session`, if any (sql.cpp: a statement naming a
  // table with waiting rows sends them first).
  static Transaction* running_on(const soci::session& session);
  void send_appended_rows_for(const std::string& sql);

 private:
  void begin(TxMode mode);
  struct Appended {
    std::string table, columns;
    std::size_t width = 0;
    std::vector<SqlValue> values;  // row after row
    bool referenced = false;       // append_referenced
  };
  void send_appended_rows();
  // Sends the waiting rows of the tables `due` picks, in multi-row INSERTs; the others wait on.
  void send_appended_rows_where(const std::function<bool(const Appended&)>& due);
  Appended& rows_of(const std::string& table, const std::string& columns, std::size_t width, bool referenced);
  soci::session& session_;
  Backend backend_;
  std::string tenant_id_;
  bool open_ = false;
  bool pipelined_ = false;
  bool sending_ = false;  // appended rows are being sent
  std::vector<Appended> appended_;
  std::size_t savepoints_ = 0;  // open ones
  WorkKinds announced_ = 0;
  Transaction* outer_ = nullptr;  // the thread's transaction before this one
};

}  // namespace nucleo::store
