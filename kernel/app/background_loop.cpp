#include "kernel/app/background_loop.hpp"

#include <Poco/Logger.h>

namespace nucleo::app {

BackgroundLoop::BackgroundLoop(std::string what, Pass pass, std::chrono::milliseconds interval)
    : what_(std::move(what)), pass_(std::move(pass)), interval_(interval), thread_([this] { run(); }) {}

BackgroundLoop::~BackgroundLoop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BackgroundLoop::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::size_t done = 0;
    try {
      done = pass_();
    } catch (const std::exception& e) {
      Poco::Logger::get("nucleo.background").error(what_ + ": " + e.what() + " (retrying)");
    }
    lock.lock();
    if (done == 0) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace nucleo::app
