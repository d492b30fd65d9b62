#include "kernel/app/background_loop.hpp"

#include <Poco/Logger.h>

#include <algorithm>

namespace nucleo::app {

BackgroundLoop::BackgroundLoop(std::string what, Pass pass, Timing timing, store::WorkSignal* signal,
                               store::WorkKinds wakes_on)
    : what_(std::move(what)), pass_(std::move(pass)), timing_(timing) {
  if (signal && wakes_on) subscription_ = signal->subscribe(wakes_on, [this](store::WorkKinds) { wake(); });
  thread_ = std::thread([this] { run(); });
}

BackgroundLoop::~BackgroundLoop() {
  subscription_ = {};  // no wake() from here on
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BackgroundLoop::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  changed_.notify_all();
}

void BackgroundLoop::run() {
  using clock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;  // what is announced from here on is seen by the pass or wakes the next one
    lock.unlock();
    auto started = clock::now();
    Outcome outcome;
    try {
      outcome = pass_();
    } catch (const std::exception& e) {
      Poco::Logger::get("nucleo.background").error(what_ + ": " + e.what() + " (retrying)");
    }
    lock.lock();
    auto earliest = started + timing_.min_gap;
    changed_.wait_until(lock, next_pass(outcome), [&] { return stopping_ || woken_; });
    if (!stopping_ && woken_) changed_.wait_until(lock, earliest, [this] { return stopping_; });
  }
}

// After a pass that did work, the next starts at once; after an idle one, when its work
// falls due or at the safety poll, whichever comes first — or when woken, min_gap after
// the last one started.
std::chrono::steady_clock::time_point BackgroundLoop::next_pass(const Outcome& outcome) const {
  auto now = std::chrono::steady_clock::now();
  if (outcome.done) return now;
  auto wait = timing_.safety_poll;
  if (outcome.due_in) wait = std::clamp(*outcome.due_in, timing_.min_gap, timing_.safety_poll);
  return now + wait;
}

}  // namespace nucleo::app
