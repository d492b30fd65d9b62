// A C++ plugin offering a channel (issue #9): its send runs on a job worker and appends
// "<message id> <to> <text> <account external id> <api_token secret> <thread>" to
// `log_file`. Recipients starting "+5500" are "unreachable" (UNAVAILABLE: retried),
// "invalid" is refused outright.
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class Sender : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    log_file_ = config.at("log_file");
    Json config_schema = {{"type", "object"},
                          {"properties", {{"sender_name", {{"type", "string"}, {"maxLength", 11}}}}},
                          {"additionalProperties", false}};
    host.channel({{"name", "fake-sms"}, {"kinds", {"sms"}}, {"config_schema", config_schema}},
                 [this](const nucleo::sdk::OutboundMessage& m) {
      std::string to = m.json["to"];
      if (to.rfind("+5500", 0) == 0) throw nucleo::sdk::Error(NUCLEO_UNAVAILABLE, "carrier unreachable");
      if (to == "invalid") throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, "not a phone number");
      const Json& account = m.json["channel_account"];
      std::ostringstream thread;
      thread << std::this_thread::get_id();
      {
        std::lock_guard lock(mutex_);
        std::ofstream(log_file_, std::ios::app)
            << m.json["message_id"].get<std::string>() << " " << to << " " << m.json["content"]["text"].get<std::string>()
            << " " << account["external_id"].get<std::string>() << " " << account["secrets"].value("api_token", "-")
            << " " << thread.str() << "\n";
      }
      return Json{{"external_id", "sms-" + m.json["message_id"].get<std::string>()}, {"delivery_status", "accepted"}};
    });
  }

 private:
  std::string log_file_;
  std::mutex mutex_;
};

}  // namespace

NUCLEO_PLUGIN(Sender, "org.nucleo.fixtures.sender", "1.0.0")
