#include "kernel/store/postgres_work_channel.hpp"

#include <Poco/Logger.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace nucleo::store {

namespace {

Poco::Logger& log() { return Poco::Logger::get("nucleo.store"); }

std::string reason(PGconn* conn) {
  std::string text = conn ? PQerrorMessage(conn) : "out of memory";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A connection, or null after logging why not.
PGconn* connect(const DatabaseUrl& url, bool log_failure) {
  PGconn* conn = PQconnectdb(url.connect_string.c_str());
  if (PQstatus(conn) == CONNECTION_OK) return conn;
  if (log_failure) log().warning("work notifications: cannot connect to %s: %s", url.display, reason(conn));
  PQfinish(conn);
  return nullptr;
}

bool run(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  return ok;
}

}  // namespace

PostgresWorkChannel::PostgresWorkChannel(DatabaseUrl url, WorkSignal& signal, std::chrono::milliseconds gap)
    : url_(std::move(url)), signal_(signal), gap_(gap), sending_([this] { send_loop(); }) {
  signal_.forward_to([this](WorkKinds kinds) {
    {
      std::lock_guard lock(mutex_);
      waiting_ |= kinds;
    }
    changed_.notify_all();
  });
}

PostgresWorkChannel::~PostgresWorkChannel() {
  signal_.forward_to(nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (stop_listening_fd_ >= 0) {
    std::uint64_t one = 1;
    (void)!::write(stop_listening_fd_, &one, sizeof one);
  }
  sending_.join();
  if (listening_.joinable()) listening_.join();
  if (stop_listening_fd_ >= 0) ::close(stop_listening_fd_);
  PQfinish(sender_);
  PQfinish(listener_);
}

// Sends what was raised, then waits `gap` before sending again: under load, one
// notification per gap carries every write of it. What is waiting when the channel
// stops is still sent (a command line process that wrote and exits).
void PostgresWorkChannel::send_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return waiting_ != 0 || stopping_; });
    if (waiting_ == 0) return;
    WorkKinds kinds = std::exchange(waiting_, 0);
    lock.unlock();
    send(kinds);
    lock.lock();
    changed_.wait_for(lock, gap_, [this] { return stopping_; });
  }
}

void PostgresWorkChannel::send(WorkKinds kinds) {
  if (!sender_) {
    sender_ = connect(url_, !sender_failed_);
    if (!sender_) {
      sender_failed_ = true;  // the other nodes find this work on their safety poll
      return;
    }
    sender_pid_ = PQbackendPID(sender_);
  }
  // The names are this program's own words ([a-z,]): nothing to quote.
  if (run(sender_, "NOTIFY " + std::string(channel) + ", '" + work_names(kinds) + "'")) {
    if (sender_failed_) log().information("work notifications: sending again");
    sender_failed_ = false;
    return;
  }
  if (!sender_failed_) log().warning("work notifications: NOTIFY failed: %s", reason(sender_));
  sender_failed_ = true;
  PQfinish(sender_);
  sender_ = nullptr;
}

void PostgresWorkChannel::listen() {
  if (listening_.joinable()) return;
  stop_listening_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_listening_fd_ < 0) throw std::runtime_error("cannot create an eventfd for the work listener");
  listening_ = std::thread([this] { listen_loop(); });
}

void PostgresWorkChannel::listen_loop() {
  bool reported = false;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (!listener_) {
      if (!open_listening_connection()) {
        if (!reported) log().warning("work notifications: cannot LISTEN on %s (retrying; background work is found by the safety poll meanwhile)", url_.display);
        reported = true;
        wait_before_reconnecting();
        continue;
      }
      if (reported) log().information("work notifications: listening again");
      reported = false;
      // What was announced while nobody listened: every loop looks once.
      signal_.raise(every_kind, WorkSignal::Origin::elsewhere);
    }
    pollfd fds[2] = {{PQsocket(listener_), POLLIN, 0}, {stop_listening_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents) return;
    if (WorkKinds kinds = take_notifications()) signal_.raise(kinds, WorkSignal::Origin::elsewhere);
  }
}

bool PostgresWorkChannel::open_listening_connection() {
  listener_ = connect(url_, false);
  if (listener_ && run(listener_, "LISTEN " + std::string(channel))) return true;
  PQfinish(listener_);
  listener_ = nullptr;
  return false;
}

// The kinds other processes notified since the last look; a lost connection is closed
// (the loop opens a new one).
WorkKinds PostgresWorkChannel::take_notifications() {
  WorkKinds kinds = 0;
  bool alive = PQconsumeInput(listener_) == 1;
  while (PGnotify* n = PQnotifies(listener_)) {
    if (n->be_pid != sender_pid_) kinds |= parse_work_names(n->extra);
    PQfreemem(n);
  }
  if (!alive || PQstatus(listener_) != CONNECTION_OK) {
    log().warning("work notifications: the listening connection dropped: %s", reason(listener_));
    PQfinish(listener_);
    listener_ = nullptr;
  }
  return kinds;
}

void PostgresWorkChannel::wait_before_reconnecting() {
  pollfd stop{stop_listening_fd_, POLLIN, 0};
  ::poll(&stop, 1, 1000);
}

}  // namespace nucleo::store
