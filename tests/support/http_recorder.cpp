#include "tests/support/http_recorder.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <cctype>
#include <optional>
#include <thread>

namespace nucleo::test {
namespace {

template <class State>
class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(std::shared_ptr<State> s) : s_(std::move(s)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
    RecordedRequest r{req.getMethod(), req.getURI(), {}, {}};
    for (const auto& [name, value] : req) {
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[lower] = value;
    }
    Poco::StreamCopier::copyToString(req.stream(), r.body);
    std::optional<int> status;
    std::function<RecordedAnswer(const RecordedRequest&)> responder;
    {
      std::lock_guard lock(s_->mutex);
      s_->requests.push_back(r);
      if (!s_->statuses.empty()) {
        status = s_->statuses.front();
        s_->statuses.pop_front();
      }
      responder = s_->responder;
    }
    RecordedAnswer answer{status.value_or(200), "status " + std::to_string(status.value_or(200)), "text/plain"};
    if (!status && responder) answer = responder(r);
    if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
    res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
    res.setContentType(answer.content_type);
    res.setContentLength(static_cast<std::streamsize>(answer.body.size()));
    res.send() << answer.body;
  }

 private:
  std::shared_ptr<State> s_;
};

template <class State>
class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::shared_ptr<State> s) : s_(std::move(s)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler<State>(s_);
  }

 private:
  std::shared_ptr<State> s_;
};

}  // namespace

HttpRecorder::HttpRecorder() : state_(std::make_shared<State>()) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  port_ = socket.address().port();
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory<State>(state_), socket, new Poco::Net::HTTPServerParams);
  server_->start();
}

HttpRecorder::~HttpRecorder() {
  server_->stopAll(true);
}

void HttpRecorder::answer_next(std::vector<int> statuses) {
  std::lock_guard lock(state_->mutex);
  state_->statuses.assign(statuses.begin(), statuses.end());
}

void HttpRecorder::respond_with(std::function<RecordedAnswer(const RecordedRequest&)> responder) {
  std::lock_guard lock(state_->mutex);
  state_->responder = std::move(responder);
}

std::vector<RecordedRequest> HttpRecorder::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<RecordedRequest> HttpRecorder::wait_for(
    const std::function<bool(const std::vector<RecordedRequest>&)>& done, std::chrono::seconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto seen = requests();
    if (done(seen)) return seen;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return requests();
}

}  // namespace nucleo::test
