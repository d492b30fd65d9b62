#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernel/store/database_url.hpp"
#include "kernel/store/work_signal.hpp"

typedef struct pg_conn PGconn;

namespace nucleo::store {

// Carries a WorkSignal between the processes of a PostgreSQL deployment (ADR 0037).
//
// Out: what this process raises is sent as `NOTIFY nucleo_work, 'audit,outbox'` from a
// connection of the channel's own, after the writes committed, at most once per `gap`
// with every kind raised meanwhile. Not from the writing transaction: PostgreSQL
// serialises the commits of notifying transactions, which cost 64 % of the write
// throughput when every write notified (docs/benchmarks.md).
// In (listen(), `serve` only): a second connection LISTENs and raises what other
// processes sent; its own notifications are recognised by their sender's pid and
// skipped, the process has already woken its loops.
//
// A notification can be lost (a connection drops, a transaction pooler that cannot
// LISTEN): every loop also looks for work on its own, slowly (background.safety_poll_ms).
class PostgresWorkChannel {
 public:
  static constexpr const char* channel = "nucleo_work";

  PostgresWorkChannel(DatabaseUrl url, WorkSignal& signal, std::chrono::milliseconds gap);
  ~PostgresWorkChannel();  // sends what is still waiting, then closes its connections
  PostgresWorkChannel(const PostgresWorkChannel&) = delete;
  PostgresWorkChannel& operator=(const PostgresWorkChannel&) = delete;

  void listen();

 private:
  void send_loop();
  void send(WorkKinds kinds);
  void listen_loop();
  bool open_listening_connection();
  WorkKinds take_notifications();
  void wait_before_reconnecting();

  DatabaseUrl url_;
  WorkSignal& signal_;
  std::chrono::milliseconds gap_;

  std::mutex mutex_;
  std::condition_variable changed_;
  WorkKinds waiting_ = 0;  // raised here, not sent yet
  bool stopping_ = false;
  PGconn* sender_ = nullptr;  // the send thread's
  bool sender_failed_ = false;  // logged once until it works again
  std::atomic<int> sender_pid_{0};

  PGconn* listener_ = nullptr;  // the listen thread's
  int stop_listening_fd_ = -1;  // an eventfd the destructor writes to end poll()
  std::thread listening_;
  std::thread sending_;  // last: starts once the rest is ready
};

}  // namespace nucleo::store
