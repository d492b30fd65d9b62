// A C++ plugin that subscribes to domain events (issue #9): it appends one line per
// delivery to `log_file` — "<event name> <entity id> <event id> <causation id> <depth>" —
// fails every delivery while the file `fail_marker` exists, and answers a new contact
// named "Chain" by creating a task through the kernel (an event caused by an event).
#include <filesystem>
#include <fstream>
#include <mutex>

#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class Subscriber : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    log_file_ = config.at("log_file");
    fail_marker_ = config.value("fail_marker", "");
    for (const char* pattern : {"contact.*", "task.created"})
      host.subscribe(pattern, [this, &host](const nucleo::sdk::Event& e) { handle(host, e); });
  }

 private:
  void handle(const nucleo::sdk::Host& host, const nucleo::sdk::Event& e) {
    if (!fail_marker_.empty() && std::filesystem::exists(fail_marker_))
      throw nucleo::sdk::Error(NUCLEO_UNAVAILABLE, "the downstream system is down");
    const Json& envelope = e.json;
    if (envelope["name"] == "contact.created" && envelope["data"]["record"]["name"] == "Chain")
      host.create(e.call, "task", {{"title", "Welcome Chain"}, {"contact_id", envelope["entity"]["id"]}});
    std::lock_guard lock(mutex_);  // handlers run concurrently
    std::ofstream(log_file_, std::ios::app)
        << envelope["name"].get<std::string>() << " " << envelope["entity"]["id"].get<std::string>() << " "
        << envelope["id"].get<std::string>() << " "
        << (envelope["causation_id"].is_string() ? envelope["causation_id"].get<std::string>() : "-") << " "
        << envelope["depth"].get<int>() << "\n";
  }

  std::string log_file_, fail_marker_;
  std::mutex mutex_;
};

}  // namespace

NUCLEO_PLUGIN(Subscriber, "org.nucleo.fixtures.subscriber", "1.0.0")
