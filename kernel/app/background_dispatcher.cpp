#include "kernel/app/background_dispatcher.hpp"

#include <Poco/Logger.h>

namespace nucleo::app {

BackgroundDispatcher::BackgroundDispatcher(events::Dispatcher& dispatcher, std::chrono::milliseconds interval)
    : dispatcher_(dispatcher), interval_(interval), thread_([this] { run(); }) {}

BackgroundDispatcher::~BackgroundDispatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BackgroundDispatcher::run() {
  Poco::Logger& log = Poco::Logger::get("nucleo.events");
  auto next_purge = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::size_t attempted = 0;
    try {
      attempted = dispatcher_.run_once();
      if (std::chrono::steady_clock::now() >= next_purge) {
        next_purge = std::chrono::steady_clock::now() + std::chrono::minutes(10);
        if (auto purged = dispatcher_.purge_delivered()) log.information("purged %z delivered events from the outbox", purged);
      }
    } catch (const std::exception& e) {
      log.error(std::string("event dispatcher: ") + e.what() + " (retrying)");
    }
    lock.lock();
    if (attempted == 0) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace nucleo::app
