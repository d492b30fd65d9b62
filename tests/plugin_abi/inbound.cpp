// A C++ plugin receiving a channel's inbound webhooks (issue #9) on a signed route, as
// a WhatsApp plugin would: POST /inbound carries {"phone_number_id","from","text"} and
// an x-channel-token header. The plugin resolves the channel account by the
// phone_number_id (which puts the call in that account's tenant), checks the token
// against the account's secret "verify_token", and logs the message as an inbound
// interaction. GET /health is public and resolves nothing.
#include "nucleo/sdk/plugin.hpp"

namespace {

using nucleo::sdk::Json;

class Inbound : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    host.route("POST", "/inbound", nucleo::sdk::Auth::signed_, [&host](const nucleo::sdk::Request& r) {
      std::string raw = r.raw_body();
      Json message = Json::parse(raw);
      Json account = host.call(r.call, "channels.resolve", {{"external_id", message.at("phone_number_id")}});
      if (r.header("x-channel-token") != account["secrets"].value("verify_token", "\x01"))
        throw nucleo::sdk::Error(NUCLEO_FORBIDDEN, "the token does not match the channel account's");
      Json interaction = host.call(r.call, "interactions.log",
                                   {{"data",
                                     {{"type", "whatsapp"},
                                      {"direction", "inbound"},
                                      {"channel", account["config"].value("channel", "whatsapp")},
                                      {"subject", "From " + message.at("from").get<std::string>()},
                                      {"body", message.at("text")}}}});
      return nucleo::sdk::Response{200, {{"interaction", interaction}, {"tenant_id", account["tenant_id"]},
                                         {"bytes", raw.size()}}};
    });
    host.route("GET", "/health", nucleo::sdk::Auth::public_, [&host](const nucleo::sdk::Request& r) {
      // No tenant here: a kernel service refuses, which the plugin reports.
      std::string refusal;
      try {
        host.call(r.call, "records.search", {{"type", "contact"}, {"query", Json::object()}});
      } catch (const nucleo::sdk::Error& e) {
        refusal = e.what();
      }
      return nucleo::sdk::Response{200, {{"ok", true}, {"without_tenant", refusal}}};
    });
  }
};

}  // namespace

NUCLEO_PLUGIN(Inbound, "org.nucleo.fixtures.inbound", "1.0.0")
