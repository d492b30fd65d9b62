#include "kernel/app/background_sequencer.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

namespace nucleo::app {

BackgroundSequencer::BackgroundSequencer(store::Database& worker, const Clock& clock,
                                         std::chrono::milliseconds interval, std::size_t batch,
                                         std::optional<audit::SigningKey> key, audit::CheckpointPolicy policy)
    : sequencer_(worker, clock),
      worker_(worker),
      clock_(clock),
      key_(std::move(key)),
      policy_(std::move(policy)),
      publish_url_(policy_.publish_url),
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

// A witness or archive learns of each checkpoint by a POST (text/plain, the note).
// A failure is logged and not retried: the next checkpoint supersedes this one, and
// every note stays in the database and behind GET /v1/audit/checkpoint.
void BackgroundSequencer::post_note(const audit::SignedCheckpoint& c) {
  Poco::Logger& log = Poco::Logger::get("nucleo.audit");
  try {
    Poco::URI uri(publish_url_);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("text/plain; charset=utf-8");
    request.setContentLength(static_cast<std::streamsize>(c.note.size()));
    request.set("X-Nucleo-Tenant", c.tenant_id);
    session.sendRequest(request) << c.note;
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response).ignore(1 << 20);
    if (response.getStatus() >= 300)
      log.error("audit checkpoint " + c.tenant_id + "/" + std::to_string(c.size) + ": " + publish_url_ + " answered " +
                std::to_string(static_cast<int>(response.getStatus())));
  } catch (const std::exception& e) {
    log.error("audit checkpoint " + c.tenant_id + "/" + std::to_string(c.size) + ": cannot POST to " + publish_url_ +
              ": " + e.what());
  }
}

void BackgroundSequencer::run() {
  Poco::Logger& log = Poco::Logger::get("nucleo.audit");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::size_t moved = 0;
    try {
      moved = sequencer_.run_once(batch_);
      for (const auto& notice : sequencer_.take_notices()) {
        if (notice.stalled) log.error(notice.text);
        else log.notice(notice.text);
      }
      if (key_)
        for (const auto& signed_note : audit::publish_checkpoints(worker_, *key_, policy_, clock_.now()))
          if (!publish_url_.empty()) post_note(signed_note);
    } catch (const std::exception& e) {
      log.error(std::string("audit sequencer: ") + e.what() + " (retrying)");
    }
    lock.lock();
    if (moved < batch_) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace nucleo::app
