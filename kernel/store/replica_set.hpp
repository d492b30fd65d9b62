#pragma once

// Read replicas (ADR 0048, docs/operations.md): PostgreSQL streaming replicas that take
// the reads which may lag — lists, searches, the 360 timeline, reports — within a bound.
//
// Every `check_every` a node reads the primary's WAL flush position and each replica's
// replay position (one statement each, outside any transaction). The primary's positions
// are kept with the time they were read; a replica that has replayed the position read at
// time t holds everything committed before t, so its staleness is at most now − t. A
// replica staler than `max_lag`, unreachable, or that failed a read is skipped until a
// check finds it fresh again. Reads fall back to the primary when no replica will do.
//
// Read-your-writes: a request that writes learns the primary's WAL insert position after
// its commit (Routing::written, sent back as `Nucleo-Write-Position`); a later request
// carrying it (`Nucleo-Read-After`) is read only where that position has been replayed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

class Database;

// A WAL position, "16/B374D848" as PostgreSQL prints pg_lsn. nullopt for anything else.
std::optional<std::uint64_t> parse_wal_position(const std::string& text);
std::string format_wal_position(std::uint64_t position);

struct ReplicaSettings {
  std::vector<DatabaseUrl> urls;  // store.replica_urls: the request role on each replica
  std::chrono::milliseconds max_lag{5000};      // store.replica_max_lag_ms
  std::chrono::milliseconds check_every{1000};  // store.replica_check_ms
  std::size_t pool_size = 8;
  std::chrono::milliseconds lease_timeout{2000};
};

class ReplicaSet {
 public:
  ReplicaSet(Database& primary, ReplicaSettings settings);
  ~ReplicaSet();
  ReplicaSet(const ReplicaSet&) = delete;
  ReplicaSet& operator=(const ReplicaSet&) = delete;

  // One look at the primary and every replica (connecting to those not open yet).
  // Never throws: what fails is logged and makes that replica unusable until the next.
  void check();

  // A replica that is fresh enough and has replayed `read_after` (0: any position), in
  // turn; nullptr: read on the primary.
  Database* choose(std::uint64_t read_after);
  // A read on `replica` failed for want of it (a lost connection): skipped until the
  // next check finds it again.
  void failed(Database* replica);

  struct Status {
    std::string name;     // its URL as logs show it (no password)
    bool usable = false;  // takes reads now
    std::optional<double> staleness_seconds;  // at the last check (none: unknown)
    std::uint64_t reads = 0;                  // reads it served since start
  };
  std::vector<Status> status() const;
  const ReplicaSettings& settings() const { return settings_; }

 private:
  struct Replica;
  // When the primary was last known to be at or before `position` (µs, steady clock).
  std::optional<std::int64_t> time_primary_reached(std::uint64_t position) const;
  void check_replica(Replica& r, std::int64_t now, std::uint64_t primary_position);

  Database& primary_;
  ReplicaSettings settings_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  mutable std::mutex mutex_;  // guards the positions and what check() writes
  std::deque<std::pair<std::int64_t, std::uint64_t>> primary_positions_;  // (µs, position), oldest first
  std::atomic<std::size_t> turn_{0};
};

}  // namespace nucleo::store
