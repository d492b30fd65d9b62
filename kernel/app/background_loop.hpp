#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace nucleo::app {

// A thread of `serve` that runs a pass of background work (event dispatch, jobs)
// back to back while there is work, otherwise one every `interval`. A pass returns how
// much it did (0: idle). A pass that throws is logged and retried on the next one: the
// work it was doing stays in the database (outbox cursors and job leases only move
// once the work is done).
class BackgroundLoop {
 public:
  using Pass = std::function<std::size_t()>;
  BackgroundLoop(std::string what, Pass pass, std::chrono::milliseconds interval);
  ~BackgroundLoop();  // stops after the pass under way and joins
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

 private:
  void run();

  std::string what_;  // for the log: "event dispatcher"
  Pass pass_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace nucleo::app
