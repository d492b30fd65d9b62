#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "kernel/store/work_signal.hpp"

namespace nucleo::app {

// A thread of `serve` that runs passes of background work (audit sequencing, event
// dispatch, jobs, imports): back to back while there is work; otherwise asleep until a
// write announces work of its kinds (store::WorkSignal), until work it knows of falls
// due, or until the safety poll — the slow look that finds work whose announcement was
// lost (ADR 0037). A pass that throws is logged and retried on the next one: the work it
// was doing stays in the database (outbox cursors and job leases only move once the work
// is done).
class BackgroundLoop {
 public:
  // What a pass did.
  struct Outcome {
    Outcome(std::size_t done = 0) : done(done) {}  // NOLINT: a count is an outcome
    std::size_t done;  // 0: found nothing to do
    // Idle, but work it knows of falls due in this long (a retry, a scheduled job).
    std::optional<std::chrono::milliseconds> due_in;
  };
  using Pass = std::function<Outcome()>;

  struct Timing {
    std::chrono::milliseconds safety_poll{10000};
    // A pass woken by an announcement starts at least this long after the last one
    // started: what is announced meanwhile goes in one batch (the audit sequencer: many
    // events per Merkle update under load). A pass that did work is followed at once.
    std::chrono::milliseconds min_gap{0};
  };

  // Wakes on `wakes_on` raised on `signal` (none: only on its timers).
  BackgroundLoop(std::string what, Pass pass, Timing timing, store::WorkSignal* signal = nullptr,
                 store::WorkKinds wakes_on = 0);
  ~BackgroundLoop();  // stops after the pass under way and joins
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  // Runs a pass soon (after min_gap), even when the last one found nothing.
  void wake();

 private:
  void run();
  std::chrono::steady_clock::time_point next_pass(const Outcome& outcome) const;

  std::string what_;  // for the log: "event dispatcher"
  Pass pass_;
  Timing timing_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool woken_ = false;
  store::WorkSignal::Subscription subscription_;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace nucleo::app
