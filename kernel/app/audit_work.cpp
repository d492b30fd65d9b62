#include "kernel/app/audit_work.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>

namespace nucleo::app {

AuditWork::AuditWork(store::Database& worker, const Clock& clock, std::size_t batch,
                     std::optional<audit::SigningKey> key, audit::CheckpointPolicy policy,
                     const events::OutboundHttp* publish)
    : sequencer_(worker, clock),
      worker_(worker),
      clock_(clock),
      batch_(batch),
      key_(std::move(key)),
      policy_(std::move(policy)),
      publish_(publish) {}

BackgroundLoop::Outcome AuditWork::run_once() {
  Poco::Logger& log = Poco::Logger::get("nucleo.audit");
  std::size_t moved = sequencer_.run_once(batch_);
  for (const auto& notice : sequencer_.take_notices()) {
    if (notice.stalled) log.error(notice.text);
    else log.notice(notice.text);
  }
  auto now = std::chrono::steady_clock::now();
  if (key_ && (moved > 0 || now >= next_checkpoint_check_)) {
    next_checkpoint_check_ = now + std::chrono::duration_cast<std::chrono::milliseconds>(policy_.interval) / 4;
    for (const auto& signed_note : audit::publish_checkpoints(worker_, *key_, policy_, clock_.now()))
      if (publish_ && !policy_.publish_url.empty()) post_note(signed_note);
  }
  BackgroundLoop::Outcome outcome(moved >= batch_ ? moved : 0);
  if (key_) outcome.due_in = std::chrono::duration_cast<std::chrono::milliseconds>(next_checkpoint_check_ - now);
  return outcome;
}

// A witness or archive learns of each checkpoint by a POST (text/plain, the note),
// through the same SSRF guard and TLS rules as every outbound request
// (docs/architecture.md §8). A failure is logged and not retried: the next checkpoint
// supersedes this one, and every note stays behind GET /v1/audit/checkpoint.
void AuditWork::post_note(const audit::SignedCheckpoint& c) const {
  Poco::Logger& log = Poco::Logger::get("nucleo.audit");
  std::string which = "audit checkpoint " + c.tenant_id + "/" + std::to_string(c.size);
  try {
    events::OutboundRequest request;
    request.method = "POST";
    request.url = policy_.publish_url;
    request.headers = {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Nucleo-Tenant", c.tenant_id}};
    request.body = c.note;
    auto response = publish_->send(request);
    if (response.status >= 300)
      log.error(which + ": " + policy_.publish_url + " answered " + std::to_string(response.status));
  } catch (const std::exception& e) {
    log.error(which + ": cannot POST to " + policy_.publish_url + ": " + e.what());
  }
}

events::OutboundSettings checkpoint_outbound_settings(events::OutboundSettings outbound, const std::string& publish_url) {
  if (publish_url.empty()) return outbound;
  std::string host = events::OutboundHttp::parse_url(publish_url).getHost();
  Poco::Net::IPAddress address;
  if (Poco::Net::IPAddress::tryParse(host, address)) outbound.allow.push_back(address.toString());
  return outbound;
}

}  // namespace nucleo::app
