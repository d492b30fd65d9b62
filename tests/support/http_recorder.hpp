#pragma once

// A local HTTP server for tests of what the kernel sends out (webhooks, plugins'
// outbound calls): it records every request and answers with scripted statuses.
#include <Poco/Net/HTTPServer.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nucleo::test {

struct RecordedRequest {
  std::string method, path;                    // path with its query
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
};

// A scripted answer: status, body (JSON by default) and how long to take.
struct RecordedAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::chrono::milliseconds delay{0};
};

class HttpRecorder {
 public:
  HttpRecorder();  // listens on 127.0.0.1, a free port
  ~HttpRecorder();

  unsigned short port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The next requests get these statuses, in order; then 200.
  void answer_next(std::vector<int> statuses);
  // From now on every request is answered by `responder` (a fake API: Meta's Graph API
  // answering documented bodies), unless answer_next has statuses left.
  void respond_with(std::function<RecordedAnswer(const RecordedRequest&)> responder);
  std::vector<RecordedRequest> requests() const;
  // Waits (up to `timeout`) until `done(requests())` holds; returns the requests then.
  std::vector<RecordedRequest> wait_for(const std::function<bool(const std::vector<RecordedRequest>&)>& done,
                                        std::chrono::seconds timeout = std::chrono::seconds(20)) const;

 private:
  struct State {
    mutable std::mutex mutex;
    std::vector<RecordedRequest> requests;
    std::deque<int> statuses;
    std::function<RecordedAnswer(const RecordedRequest&)> responder;
  };
  std::shared_ptr<State> state_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  unsigned short port_ = 0;
};

}  // namespace nucleo::test
