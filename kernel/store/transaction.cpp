#include "kernel/store/transaction.hpp"

#include <soci/soci.h>

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

}  // namespace

Transaction::Transaction(soci::session& session, Backend backend, TxMode mode, const std::string& tenant_id)
    : session_(session), backend_(backend) {
  try {
    if (backend == Backend::sqlite) {
      session_ << (mode == TxMode::write ? "BEGIN IMMEDIATE" : "BEGIN");
      open_ = true;
      return;
    }
    // One round trip: BEGIN and the tenant setting travel as one simple-protocol query.
    std::string begin = mode == TxMode::write ? "BEGIN" : "BEGIN READ ONLY";
    if (!tenant_id.empty()) begin += "; SELECT set_config('nucleo.tenant_id', " + tenant_literal(tenant_id) + ", true)";
    open_ = true;
    execute_script(session_, backend, begin);
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
