#include "kernel/store/replica_set.hpp"

#include <Poco/Logger.h>
#include <soci/soci.h>

#include <cstdio>

#include "kernel/store/database.hpp"

namespace nucleo::store {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("nucleo.store");
}

std::int64_t steady_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t micros(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::microseconds>(ms).count();
}

// One statement outside a transaction, its pg_lsn as text; nullopt when it is NULL
// (pg_last_wal_replay_lsn() on a server that is not a standby).
std::optional<std::uint64_t> position_of(Database& db, const std::string& sql) {
  std::optional<std::uint64_t> position;
  db.read_one_statement([&](soci::session& session) {
    std::string text;
    soci::indicator ind = soci::i_null;
    session << sql, soci::into(text, ind);
    if (ind == soci::i_ok) position = parse_wal_position(text);
  });
  return position;
}

}  // namespace

std::optional<std::uint64_t> parse_wal_position(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash > 8 || text.size() - slash - 1 == 0 ||
      text.size() - slash - 1 > 8)
    return std::nullopt;
  std::uint64_t high = 0, low = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == slash) continue;
    char c = text[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    std::uint64_t& part = i < slash ? high : low;
    part = part * 16 + static_cast<std::uint64_t>(digit);
  }
  return high << 32 | low;
}

std::string format_wal_position(std::uint64_t position) {
  char text[24];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(position >> 32),
                static_cast<unsigned>(position & 0xffffffffu));
  return text;
}

struct ReplicaSet::Replica {
  DatabaseUrl url;
  std::unique_ptr<Database> db;  // opened by a check (a replica down at start is no reason not to start)
  std::atomic<bool> usable{false};
  std::atomic<std::uint64_t> replayed{0};
  std::atomic<std::uint64_t> reads{0};
  std::optional<std::int64_t> staleness_us;  // under mutex_
};

ReplicaSet::ReplicaSet(Database& primary, ReplicaSettings settings) : primary_(primary), settings_(std::move(settings)) {
  for (const auto& url : settings_.urls) {
    replicas_.push_back(std::make_unique<Replica>());
    replicas_.back()->url = url;
  }
}

ReplicaSet::~ReplicaSet() = default;

std::optional<std::int64_t> ReplicaSet::time_primary_reached(std::uint64_t position) const {
  // Positions only grow: the newest sample at or below `position` is the latest time
  // the replica is known to hold all of.
  for (auto it = primary_positions_.rbegin(); it != primary_positions_.rend(); ++it)
    if (it->second <= position) return it->first;
  return std::nullopt;
}

void ReplicaSet::check() {
  std::uint64_t primary_position = 0;
  std::int64_t now = steady_micros();
  try {
    // Read before the replicas: a replica at or past it holds everything made durable by
    // now. The flush position, not the insert position: a replica can only ever replay
    // what was flushed, and on an idle primary the insert position may stand past the
    // last record (a page header) where no replica would ever catch up with it.
    primary_position = position_of(primary_, "SELECT pg_current_wal_flush_lsn()::text").value_or(0);
  } catch (const std::exception& e) {
    log().warning("replica check: cannot read the primary's WAL position: %s", std::string(e.what()));
    return;  // nothing to measure against: the replicas keep their state until the next
  }
  {
    std::lock_guard lock(mutex_);
    primary_positions_.emplace_back(now, primary_position);
    // Keep what can still tell a usable staleness apart, and one older sample.
    while (primary_positions_.size() > 2 &&
           now - primary_positions_[1].first > 2 * micros(settings_.max_lag) + micros(settings_.check_every))
      primary_positions_.pop_front();
  }
  for (auto& r : replicas_) check_replica(*r, now, primary_position);
}

void ReplicaSet::check_replica(Replica& r, std::int64_t now, std::uint64_t primary_position) {
  std::optional<std::int64_t> staleness;
  std::string problem;
  try {
    if (!r.db) {
      r.db = std::make_unique<Database>(r.url, settings_.pool_size, settings_.lease_timeout);
      log().information("replica %s: connected", r.url.display);
    }
    auto replayed = position_of(*r.db, "SELECT pg_last_wal_replay_lsn()::text");
    if (!replayed) {
      problem = "it is not a standby (pg_last_wal_replay_lsn() is NULL): reads stay on the primary";
    } else {
      r.replayed = *replayed;
      std::lock_guard lock(mutex_);
      if (*replayed >= primary_position) staleness = 0;
      else if (auto since = time_primary_reached(*replayed)) staleness = now - *since;
    }
  } catch (const std::exception& e) {
    problem = e.what();
  }
  bool usable = staleness && *staleness <= micros(settings_.max_lag);
  if (usable != r.usable.load()) {
    if (usable) log().information("replica %s: takes reads", r.url.display);
    else
      log().warning("replica %s: skipped — %s", r.url.display,
                    problem.empty() ? "more than " + std::to_string(settings_.max_lag.count()) +
                                          " ms behind the primary (store.replica_max_lag_ms)"
                                    : problem);
  }
  std::lock_guard lock(mutex_);
  r.staleness_us = staleness;
  r.usable = usable;
}

Database* ReplicaSet::choose(std::uint64_t read_after) {
  std::size_t n = replicas_.size();
  std::size_t first = turn_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    Replica& r = *replicas_[(first + i) % n];
    if (!r.usable.load() || r.replayed.load() < read_after) continue;
    ++r.reads;
    return r.db.get();
  }
  return nullptr;
}

void ReplicaSet::failed(Database* replica) {
  for (auto& r : replicas_)
    if (r->db.get() == replica && r->usable.exchange(false))
      log().warning("replica %s: a read failed on it; skipped until the next check finds it", r->url.display);
}

std::vector<ReplicaSet::Status> ReplicaSet::status() const {
  std::lock_guard lock(mutex_);
  std::vector<Status> out;
  for (const auto& r : replicas_) {
    Status s{r->url.display, r->usable.load(), std::nullopt, r->reads.load()};
    if (r->staleness_us) s.staleness_seconds = static_cast<double>(*r->staleness_us) / 1e6;
    out.push_back(s);
  }
  return out;
}

// Database's hooks, here so that database.hpp needs only a declaration of ReplicaSet.

Database* Database::replica_for_read() {
  return replicas_->choose(internal::routing_.read_after);
}

void Database::replica_failed(Database& replica) {
  replicas_->failed(&replica);
}

// The insert position: with synchronous_commit off the commit may not be flushed yet,
// and the position handed to the client must cover it whatever the server's settings.
void Database::note_write_position(ConnectionPool::Lease& lease) {
  try {
    std::string text;
    lease.session() << "SELECT pg_current_wal_insert_lsn()::text", soci::into(text);
    if (auto position = parse_wal_position(text); position && *position > internal::routing_.written)
      internal::routing_.written = *position;
  } catch (const std::exception& e) {
    // The write stands; the client reads it from the primary only if it asks there.
    log().warning("cannot read the WAL position after a write: %s", std::string(e.what()));
  }
}

}  // namespace nucleo::store
