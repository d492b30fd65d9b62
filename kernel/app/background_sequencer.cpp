#include "kernel/app/background_sequencer.hpp"

#include <Poco/Logger.h>

namespace nucleo::app {

BackgroundSequencer::BackgroundSequencer(store::Database& worker, const Clock& clock,
                                         std::chrono::milliseconds interval, std::size_t batch,
                                         std::optional<audit::SigningKey> key, audit::CheckpointPolicy policy)
    : sequencer_(worker, clock),
      worker_(worker),
      clock_(clock),
      key_(std::move(key)),
      policy_(std::move(policy)),
      interval_(interval),
      batch_(batch),
      thread_([this] { run(); }) {}

BackgroundSequencer::~BackgroundSequencer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BackgroundSequencer::run() {
  Poco::Logger& log = Poco::Logger::get("nucleo.audit");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::size_t moved = 0;
    try {
      moved = sequencer_.run_once(batch_);
      if (key_) audit::publish_checkpoints(worker_, *key_, policy_, clock_.now());
    } catch (const std::exception& e) {
      log.error(std::string("audit sequencer: ") + e.what() + " (retrying)");
    }
    lock.lock();
    if (moved < batch_) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace nucleo::app
