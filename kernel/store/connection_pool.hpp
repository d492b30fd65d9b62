#pragma once

#include <soci/connection-pool.h>
#include <soci/session.h>

#include <atomic>
#include <chrono>
#include <cstddef>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

// A fixed set of open sessions. Callers lease one for the length of a unit of work;
// when none frees up within the timeout they get Error(unavailable), never a hang
// (an HTTP caller turns it into a quick 503).
class ConnectionPool {
 public:
  // Opens every session now, so a bad URL or an unreachable server fails at start-up
  // with Error(unavailable) naming the server, not on the first request.
  ConnectionPool(DatabaseUrl url, std::size_t size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    soci::session& session() { return *session_; }
    soci::session* operator->() { return session_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* owner, std::size_t position);
    ConnectionPool* owner_;
    std::size_t position_;
    soci::session* session_;
  };

  Lease lease(std::chrono::milliseconds timeout);

  // For /metrics: sessions leased now, and callers waiting for one.
  std::size_t in_use() const { return in_use_.load(); }
  std::size_t waiting() const { return waiting_.load(); }

  // Whether the leased session's connection is known to be gone (no round trip): what a
  // failure on it then means (rethrow_as_connection_lost), and the lease after it reconnects.
  bool connection_lost(Lease& lease) const;

  const DatabaseUrl& url() const { return url_; }
  Backend backend() const { return url_.backend; }
  std::size_t size() const { return size_; }

 private:
  DatabaseUrl url_;
  std::size_t size_;
  soci::connection_pool pool_;
  std::atomic<std::size_t> in_use_{0}, waiting_{0};
};

// Opens one session outside any pool (migrations, CLI commands), configured exactly
// like a pooled one.
void open_session(soci::session& session, const DatabaseUrl& url);

}  // namespace nucleo::store
