// Lead capture: POST /v1/x/org.nucleo.examples.lead-capture/leads turns a web form into
// a contact, the form's message as an inbound interaction, and a follow-up task due
// `follow_up_hours` later — all through kernel services, as the caller's API key, so
// permissions, validation and the audit trail are the kernel's.
//
//   curl -X POST -H "Authorization: Bearer $KEY" -H "Content-Type: application/json"
//        -d '{"name":"Ana Souza","email":"ana@example.com","message":"Quote for 40 seats?"}'
//        http://localhost:8080/v1/x/org.nucleo.examples.lead-capture/leads
#include <chrono>
#include <ctime>
#include <nucleo/sdk/plugin.hpp>

namespace {

using nucleo::sdk::Json;

std::string rfc3339_in_hours(long hours) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + std::chrono::hours(hours));
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The form's text fields; a missing name or e-mail is the client's mistake (422).
std::string form_field(const Json& form, const char* name, bool required) {
  auto it = form.find(name);
  if (it != form.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) return *it;
  if (it != form.end() && !it->is_null() && !it->is_string())
    throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("\"") + name + "\" must be a string");
  if (required) throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("\"") + name + "\" is required");
  return "";
}

class LeadCapture : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    follow_up_hours_ = config.at("follow_up_hours").get<long>();
    channel_ = config.at("channel").get<std::string>();
    host.route("POST", "/leads", nucleo::sdk::Auth::bearer,
               [this, &host](const nucleo::sdk::Request& r) { return capture(host, r); });
    host.log(nucleo::sdk::Level::info, "capturing leads; follow-ups due after " + std::to_string(follow_up_hours_) + " h");
  }

 private:
  nucleo::sdk::Response capture(const nucleo::sdk::Host& host, const nucleo::sdk::Request& r) const {
    if (!r.body.is_object()) throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, "the body must be a JSON object");
    std::string name = form_field(r.body, "name", true);
    Json contact_data = {{"name", name}, {"email", form_field(r.body, "email", true)}};
    if (auto phone = form_field(r.body, "phone", false); !phone.empty()) contact_data["phone"] = phone;
    std::string message = form_field(r.body, "message", false);

    Json contact = host.create(r.call, "contact", contact_data);
    Json out = {{"contact", contact}};
    if (!message.empty())
      out["interaction"] = host.call(r.call, "interactions.log",
                                     {{"data",
                                       {{"type", "note"},
                                        {"direction", "inbound"},
                                        {"channel", channel_},
                                        {"subject", "Lead from " + channel_},
                                        {"body", message},
                                        {"contact_id", contact["id"]}}}});
    out["task"] = host.create(r.call, "task",
                              {{"title", "Follow up with " + name},
                               {"kind", "follow_up"},
                               {"due_at", rfc3339_in_hours(follow_up_hours_)},
                               {"contact_id", contact["id"]}});
    host.count("leads_captured_total", {{"channel", channel_}});
    return {201, out};
  }

  long follow_up_hours_ = 24;
  std::string channel_;
};

}  // namespace

NUCLEO_PLUGIN(LeadCapture, "org.nucleo.examples.lead-capture", "1.0.0")
