#pragma once

#include <chrono>
#include <string>
#include <type_traits>

#include "kernel/store/connection_pool.hpp"
#include "kernel/store/database_error.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::store {

// The store's front door: a pool plus the rule that work runs in one transaction.
//
//   db.write(tenant_id, [&](Transaction& tx) { tx.session() << "UPDATE …"; });
//
// The transaction commits when the work returns and rolls back when it throws; any
// SOCI/driver exception leaves as nucleo::Error.
//
// Dialect pitfall: never repeat a named placeholder (`VALUES (:t, :t)`). SOCI turns
// each occurrence into its own PostgreSQL parameter but SQLite binds the name once,
// so the two backends need a different number of `use()`s. Give each its own name.
class Database {
 public:
  Database(DatabaseUrl url, std::size_t pool_size, std::chrono::milliseconds lease_timeout)
      : pool_(std::move(url), pool_size), lease_timeout_(lease_timeout) {}

  template <class Work>
  auto write(const std::string& tenant_id, Work&& work) {
    return run(TxMode::write, tenant_id, std::forward<Work>(work));
  }
  template <class Work>
  auto read(const std::string& tenant_id, Work&& work) {
    return run(TxMode::read, tenant_id, std::forward<Work>(work));
  }

  Backend backend() const { return pool_.backend(); }
  const DatabaseUrl& url() const { return pool_.url(); }
  ConnectionPool& pool() { return pool_; }
  ConnectionPool::Lease lease() { return pool_.lease(lease_timeout_); }

 private:
  template <class Work>
  auto run(TxMode mode, const std::string& tenant_id, Work&& work) {
    auto lease = pool_.lease(lease_timeout_);
    try {
      Transaction tx(lease.session(), pool_.backend(), mode, tenant_id);
      if constexpr (std::is_void_v<decltype(work(tx))>) {
        work(tx);
        tx.commit();
      } else {
        auto result = work(tx);
        tx.commit();
        return result;
      }
    } catch (...) {
      rethrow_as_nucleo_error("database error");
    }
  }

  ConnectionPool pool_;
  std::chrono::milliseconds lease_timeout_;
};

}  // namespace nucleo::store
