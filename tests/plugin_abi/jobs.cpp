// A C++ plugin with jobs (issue #9): a recurring global job "tick" (every 1s) and an
// on-demand per-tenant job "work" that a bearer route enqueues. Each run appends a line
// to `log_file`: "tick <scheduled_at>", "start <job id> <tenant> <i>" and, after sleeping
// the payload's sleep_ms, "done <job id> <tenant> <i>" — or, with "fail", an error.
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class Jobs : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    log_file_ = config.at("log_file");
    host.job("tick", "every 1s", nucleo::sdk::Scope::global,
             [this](const nucleo::sdk::Job& j) { append("tick " + j.json["scheduled_at"].get<std::string>()); });
    host.job("work", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      if (j.payload().value("fail", false)) throw nucleo::sdk::Error(NUCLEO_UNAVAILABLE, "the mailbox is down");
      std::string line = j.json["job_id"].get<std::string>() + " " + j.json["tenant_id"].get<std::string>() + " " +
                         std::to_string(j.payload().value("i", -1));
      append("start " + line);
      std::this_thread::sleep_for(std::chrono::milliseconds(j.payload().value("sleep_ms", 0)));
      append("done " + line);
    });
    // POST /enqueue {"count": n, "delay_ms": d, "sleep_ms": s, "fail": true} → {"job_ids": [...]}
    host.route("POST", "/enqueue", nucleo::sdk::Auth::bearer, [&host](const nucleo::sdk::Request& r) {
      Json ids = Json::array();
      for (int i = 0; i < r.body.value("count", 1); ++i)
        ids.push_back(host.enqueue(r.call, "work",
                                   {{"i", i}, {"sleep_ms", r.body.value("sleep_ms", 0)}, {"fail", r.body.value("fail", false)}},
                                   r.body.value("delay_ms", 0)));
      return nucleo::sdk::Response{202, {{"job_ids", ids}}};
    });
  }

 private:
  void append(const std::string& line) {
    std::lock_guard lock(mutex_);  // two job workers run concurrently
    std::ofstream(log_file_, std::ios::app) << line << "\n";
  }

  std::string log_file_;
  std::mutex mutex_;
};

}  // namespace

NUCLEO_PLUGIN(Jobs, "org.nucleo.fixtures.jobs", "1.0.0")
