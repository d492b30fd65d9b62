#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kernel/app/background_loop.hpp"
#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/checkpoint.hpp"
#include "kernel/events/outbound_http.hpp"

namespace nucleo::app {

// The audit trail's background work in `serve` (docs/architecture.md §5), one pass at a
// time on a BackgroundLoop: sequence a batch of pending events, log the sequencer's
// notices, sign the checkpoints that are due and POST each to audit.publish_url.
// Failures are logged by the loop and retried on the next pass: pending events stay
// pending.
class AuditWork {
 public:
  // `publish`: how checkpoints reach policy.publish_url (null: not published by POST).
  AuditWork(store::Database& worker, const Clock& clock, std::size_t batch, std::optional<audit::SigningKey> key,
            audit::CheckpointPolicy policy, const events::OutboundHttp* publish);

  // Returns what was sequenced when the batch was full — more are waiting, so the
  // loop runs again at once — and 0 otherwise, so it sleeps until events are recorded
  // or the next checkpoint check is due.
  BackgroundLoop::Outcome run_once();

 private:
  void post_note(const audit::SignedCheckpoint& c) const;

  audit::Sequencer sequencer_;
  store::Database& worker_;
  const Clock& clock_;
  std::size_t batch_;
  std::optional<audit::SigningKey> key_;
  audit::CheckpointPolicy policy_;
  const events::OutboundHttp* publish_;
  // Checkpoints are looked for after each pass that sequenced events, and four times per
  // policy interval (a head that grew by fewer than every_events events becomes due by
  // time alone: signed at most a quarter of the interval late).
  std::chrono::steady_clock::time_point next_checkpoint_check_{};
};

// The outbound settings checkpoint publication uses: `outbound`'s, plus the address of
// audit.publish_url's host when it is an IP literal — the operator named that target
// on purpose, as if it were in outbound.allow.
events::OutboundSettings checkpoint_outbound_settings(events::OutboundSettings outbound, const std::string& publish_url);

}  // namespace nucleo::app
