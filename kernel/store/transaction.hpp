#pragma once

#include <soci/session.h>

#include <string>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

enum class TxMode { read, write };

// One database transaction on a leased session, rolled back unless commit() is called.
//
// SQLite write transactions start with BEGIN IMMEDIATE: SOCI's deferred BEGIN would let
// two writers both read and then fail with SQLITE_BUSY when they upgrade (docs/architecture.md §3).
// On PostgreSQL, a non-empty tenant id is set with set_config('nucleo.tenant_id', …,
// true) in the same round trip as BEGIN, so row-level security fences the transaction
// even if a query forgets its `WHERE tenant_id`. The id is spliced as a literal only
// after checking it holds nothing but the id alphabet [a-z0-9_].
class Transaction {
 public:
  Transaction(soci::session& session, Backend backend, TxMode mode, const std::string& tenant_id);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  void commit();
  soci::session& session() { return session_; }
  Backend backend() const { return backend_; }

 private:
  soci::session& session_;
  Backend backend_;
  bool open_ = false;
};

}  // namespace nucleo::store
