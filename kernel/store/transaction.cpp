#include "kernel/store/transaction.hpp"

#include <soci/soci.h>

#include "kernel/store/database_error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::store {

Transaction::Transaction(soci::session& session, Backend backend, TxMode mode, const std::string& tenant_id)
    : session_(session), backend_(backend) {
  try {
    if (backend == Backend::sqlite) {
      session_ << (mode == TxMode::write ? "BEGIN IMMEDIATE" : "BEGIN");
      open_ = true;
      return;
    }
    session_ << (mode == TxMode::write ? "BEGIN" : "BEGIN READ ONLY");
    open_ = true;
    if (!tenant_id.empty()) execute(session_, "SELECT set_config('nucleo.tenant_id', :p0, true)", {tenant_id});
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
  try {
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
  if (!open_) return;
  try {
    session_ << "ROLLBACK";
  } catch (...) {
    // The session is broken; the pool reconnects it on its next lease.
  }
}

}  // namespace nucleo::store
