#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernel/events/dispatcher.hpp"

namespace nucleo::app {

// Runs the event dispatcher in `serve` (DESIGN §8): passes back to back while there is
// work, otherwise one every `interval`. A failed pass is logged and retried: events stay
// in the outbox and cursors only move after deliveries.
class BackgroundDispatcher {
 public:
  BackgroundDispatcher(events::Dispatcher& dispatcher, std::chrono::milliseconds interval);
  ~BackgroundDispatcher();  // stops after the pass under way and joins
  BackgroundDispatcher(const BackgroundDispatcher&) = delete;
  BackgroundDispatcher& operator=(const BackgroundDispatcher&) = delete;

 private:
  void run();

  events::Dispatcher& dispatcher_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace nucleo::app
