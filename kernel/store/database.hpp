#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>

#include "kernel/domain/error.hpp"
#include "kernel/store/connection_pool.hpp"
#include "kernel/store/database_error.hpp"
#include "kernel/store/transaction.hpp"
#include "kernel/store/work_signal.hpp"

namespace nucleo::store {

class ReplicaSet;
class TenantPlacement;

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
class Database;

namespace internal {
// The transaction Database::in_one_transaction() opened on this thread, if any.
struct AmbientTransaction {
  const Database* database = nullptr;
  Transaction* tx = nullptr;
  std::string tenant_id;
  bool joined_roll_back_alone = false;  // Joined::roll_back_alone
};
inline thread_local AmbientTransaction ambient_;

// Where this thread's reads may go and what its writes left behind (ReadRouting).
struct Routing {
  bool active = false;
  bool may_lag = false;
  std::uint64_t read_after = 0;  // a WAL position a replica must have replayed
  std::uint64_t written = 0;     // the primary's WAL position after the last write
};
inline thread_local Routing routing_;
}  // namespace internal

// For one API request (the HTTP layer): whether its reads may come from a replica
// (lists, searches, the 360 timeline, reports: ADR 0048) and, when the client wrote
// before, the position a replica must have replayed for them. Its writes note the
// primary's WAL position after their commit: written(), for the next request.
class ReadRouting {
 public:
  ReadRouting(bool may_lag, std::uint64_t read_after) : outer_(internal::routing_) {
    internal::routing_ = {true, may_lag, read_after, 0};
  }
  ~ReadRouting() { internal::routing_ = outer_; }
  ReadRouting(const ReadRouting&) = delete;
  ReadRouting& operator=(const ReadRouting&) = delete;
  std::uint64_t written() const { return internal::routing_.written; }

 private:
  internal::Routing outer_;
};

// Reads that must see the primary whatever the request allows (`when` true): audited
// reads, whose audit record says what was disclosed.
class OnPrimary {
 public:
  explicit OnPrimary(bool when = true) : may_lag_(internal::routing_.may_lag) {
    if (when) internal::routing_.may_lag = false;
  }
  ~OnPrimary() { internal::routing_.may_lag = may_lag_; }
  OnPrimary(const OnPrimary&) = delete;
  OnPrimary& operator=(const OnPrimary&) = delete;

 private:
  bool may_lag_;
};

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
  // Every statement of `work` reads the same snapshot (TxMode::snapshot): for a bulk read
  // of many tables that must agree with each other. Not joined to an ambient transaction.
  template <class Work>
  auto snapshot_read(const std::string& tenant_id, Work&& work) {
    return run(TxMode::snapshot, tenant_id, std::forward<Work>(work));
  }

  // One statement that reads, on a leased session outside any transaction (autocommit):
  // a background loop's look for work, which would otherwise pay a BEGIN and a COMMIT
  // for one SELECT. Never for a tenant's rows: row-level security needs the tenant set
  // inside a transaction, so this is for the worker's deployment-wide tables.
  template <class Work>
  auto read_one_statement(Work&& work) {
    auto lease = pool_.lease(lease_timeout_);
    try {
      return work(lease.session());
    } catch (...) {
      if (pool_.connection_lost(lease)) rethrow_as_connection_lost("database error");
      rethrow_as_nucleo_error("database error");
    }
  }

  // True inside in_one_transaction() on this thread: reads and writes join its transaction.
  bool runs_joined_transaction() const { return internal::ambient_.database == this; }

  // Reads a request allows to lag go to these replicas when one is fresh enough (ADR
  // 0048); writes then note the primary's WAL position for read-your-writes.
  void read_from(ReplicaSet* replicas) { replicas_ = replicas; }
  const ReplicaSet* replicas() const { return replicas_; }

  // Transactions of tenants that live on another cluster run there (ADR 0048,
  // tenant_placement.hpp); `worker_role`: this database is the worker role's.
  void place_tenants(TenantPlacement* placement, bool worker_role) {
    placement_ = placement;
    worker_role_ = worker_role;
  }
  TenantPlacement* placement() const { return placement_; }

  // Where writes report the background work they committed (Transaction::announce):
  // the process's WorkSignal, shared by its databases. None: nobody is told.
  void announce_work_to(WorkSignal* signal) { work_signal_ = signal; }

  // What a failed read or write joined into in_one_transaction() takes with it.
  enum class Joined {
    // the whole transaction: any failure inside fails all of it (batch all-or-nothing)
    share_fate,
    // only its own changes (a savepoint around each): a caller that catches the failure
    // and goes on — a batch of independent operations — keeps the transaction usable
    // and the work done before it. What an idempotent request runs in (ADR 0033).
    roll_back_alone,
  };

  // Runs `work()` with every read and write of this Database on this thread, in the same
  // tenant, joined into one write transaction: all of it commits or none of it does.
  // Reads of another tenant (or of none: work spanning tenants) run on their own and
  // see what is committed; a write to another tenant is refused.
  template <class Work>
  auto in_one_transaction(const std::string& tenant_id, Work&& work, Joined joined = Joined::share_fate) {
    return run(TxMode::write, tenant_id, [&](Transaction& tx) {
      AmbientScope scope(this, &tx, tenant_id, joined == Joined::roll_back_alone);
      return work();
    });
  }

  // After an erasure: makes deleted content leave the database files where the backend
  // allows it. SQLite zeroes freed space (secure_delete, set on every connection); the
  // contacts' search index (migration 0030) is merged, which drops the trigrams and
  // positions of the erased values its 'delete' entries only masked; and the write-ahead
  // log is moved into the database and truncated, so old page images go too.
  // PostgreSQL keeps dead row versions until VACUUM, which only the schema owner may run
  // (docs/compliance.md): nothing to do here.
  void discard_deleted_content() {
    if (backend() != Backend::sqlite) return;
    auto l = lease();
    l.session() << "INSERT INTO contacts_text (contacts_text) VALUES ('optimize')";
    l.session() << "PRAGMA wal_checkpoint(TRUNCATE)";
  }

  Backend backend() const { return pool_.backend(); }
  const DatabaseUrl& url() const { return pool_.url(); }
  ConnectionPool& pool() { return pool_; }
  ConnectionPool::Lease lease() { return pool_.lease(lease_timeout_); }

 private:
  // A joined transaction inside another (a batch of calls that each join one) leaves the
  // outer one in place when it ends.
  struct AmbientScope {
    AmbientScope(const Database* db, Transaction* tx, const std::string& tenant, bool roll_back_alone)
        : outer(internal::ambient_) {
      internal::ambient_ = {db, tx, tenant, roll_back_alone};
    }
    ~AmbientScope() { internal::ambient_ = outer; }
    internal::AmbientTransaction outer;
  };

  template <class Work>
  auto run(TxMode mode, const std::string& tenant_id, Work&& work) {
    const internal::AmbientTransaction& ambient = internal::ambient_;
    bool joins = ambient.database == this && mode != TxMode::snapshot &&
                 (ambient.tenant_id == tenant_id || mode == TxMode::write);
    if (joins) {
      if (ambient.tenant_id != tenant_id) throw Error(ErrorCode::internal, "a joined transaction cannot change tenant");
      try {
        if (!ambient.joined_roll_back_alone) return work(*ambient.tx);
        return in_savepoint(*ambient.tx, work);
      } catch (...) {
        rethrow_as_nucleo_error("database error");
      }
    }
    if (placement_ && !tenant_id.empty())
      if (Database* there = placed_elsewhere(tenant_id, mode)) return there->run(mode, tenant_id, work);
    if (mode != TxMode::write && replicas_ && internal::routing_.may_lag)
      if (Database* replica = replica_for_read()) return on_replica(*replica, mode, tenant_id, work);
    return run_here(mode, tenant_id, work);
  }

  // `work` in a transaction of its own on this database's pool.
  template <class Work>
  auto run_here(TxMode mode, const std::string& tenant_id, Work& work) {
    auto lease = pool_.lease(lease_timeout_);
    std::unique_lock<std::timed_mutex> writer = sqlite_writer_turn(mode);
    try {
      Transaction tx(lease.session(), pool_.backend(), mode, tenant_id);
      if constexpr (std::is_void_v<decltype(work(tx))>) {
        work(tx);
        tx.commit();
        committed(tx, mode, lease);
      } else {
        auto result = work(tx);
        tx.commit();
        committed(tx, mode, lease);
        return result;
      }
    } catch (...) {
      if (pool_.connection_lost(lease)) rethrow_as_connection_lost("database error");
      rethrow_as_nucleo_error("database error");
    }
  }

  // `work(tx)` whose changes are undone alone when it fails; the transaction goes on.
  template <class Work>
  static auto in_savepoint(Transaction& tx, Work& work) {
    std::size_t savepoint = tx.savepoint();
    try {
      if constexpr (std::is_void_v<decltype(work(tx))>) {
        work(tx);
        tx.release(savepoint);
      } else {
        auto result = work(tx);
        tx.release(savepoint);
        return result;
      }
    } catch (...) {
      try {
        tx.rollback_to(savepoint);
      } catch (...) {
        // The connection is gone: the transaction fails as a whole at its commit.
      }
      throw;
    }
  }

  // SQLite has one writer at a time. Left to SQLite, writers that find the lock taken
  // sleep in growing steps (busy_timeout) while others take it first: a plain write's p99
  // reached 1.3 s with eight clients and the background loops. In-process writers queue
  // here instead and wake as soon as the lock is free; another process (a CLI beside the
  // server) still meets SQLite's busy handler. Bounded like busy_timeout, so a write
  // nested in another on this thread fails as before instead of hanging.
  std::unique_lock<std::timed_mutex> sqlite_writer_turn(TxMode mode) {
    std::unique_lock<std::timed_mutex> turn(sqlite_writer_, std::defer_lock);
    if (mode != TxMode::write || pool_.backend() != Backend::sqlite) return turn;
    if (!turn.try_lock_for(std::chrono::milliseconds(5000)))
      throw Error(ErrorCode::unavailable, "the database is busy: no write could start within 5 s");
    return turn;
  }

  // After the commit, never before: a loop woken earlier would not see the rows yet.
  void committed(const Transaction& tx, TxMode mode, ConnectionPool::Lease& lease) {
    if (work_signal_ && tx.announced()) work_signal_->raise(tx.announced());
    if (replicas_ && internal::routing_.active && mode == TxMode::write) note_write_position(lease);
  }

  // A read the request allows to lag, on `replica`. A replica that fails for want of a
  // connection is skipped from the next read on; this one fails (503): `work` may have
  // gathered part of its rows, so it is not run again elsewhere.
  template <class Work>
  auto on_replica(Database& replica, TxMode mode, const std::string& tenant_id, Work& work) {
    try {
      return replica.run_here(mode, tenant_id, work);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unavailable) replica_failed(replica);
      throw;
    }
  }
  // The cluster database a tenant placed elsewhere runs on; nullptr: here (tenant_placement.cpp).
  Database* placed_elsewhere(const std::string& tenant_id, TxMode mode);
  Database* replica_for_read();           // replica_set.cpp
  void replica_failed(Database& replica);  // replica_set.cpp
  // The primary's WAL position now, which covers the commit just made (replica_set.cpp).
  void note_write_position(ConnectionPool::Lease& lease);

  ConnectionPool pool_;
  std::chrono::milliseconds lease_timeout_;
  std::timed_mutex sqlite_writer_;  // SQLite: whose write transaction runs (sqlite_writer_turn)
  WorkSignal* work_signal_ = nullptr;
  ReplicaSet* replicas_ = nullptr;
  TenantPlacement* placement_ = nullptr;
  bool worker_role_ = false;
};

}  // namespace nucleo::store
