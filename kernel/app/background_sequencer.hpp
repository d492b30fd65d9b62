#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "kernel/audit/audit_log.hpp"

namespace nucleo::app {

// Runs the audit sequencer in `serve` (DESIGN §5): a batch right away while events keep
// coming (a full batch means more are waiting), otherwise every `interval`. Failures are
// logged and retried on the next round: the pending events stay pending meanwhile.
class BackgroundSequencer {
 public:
  // With a signing key, checkpoints are signed after each round as `policy` says.
  BackgroundSequencer(store::Database& worker, const Clock& clock, std::chrono::milliseconds interval,
                      std::size_t batch, std::optional<audit::SigningKey> key = std::nullopt,
                      audit::CheckpointPolicy policy = {});
  ~BackgroundSequencer();  // stops and joins
  BackgroundSequencer(const BackgroundSequencer&) = delete;
  BackgroundSequencer& operator=(const BackgroundSequencer&) = delete;

 private:
  void run();
  void post_note(const audit::SignedCheckpoint& c);

  audit::Sequencer sequencer_;
  store::Database& worker_;
  const Clock& clock_;
  std::optional<audit::SigningKey> key_;
  audit::CheckpointPolicy policy_;
  std::string publish_url_;
  std::chrono::milliseconds interval_;
  std::size_t batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nucleo::app
