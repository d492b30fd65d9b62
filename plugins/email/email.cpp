// The e-mail channel (docs/channels/email.md), built on the SDK alone: one mailbox per
// channel account; a message to a contact is composed with GMime (message.hpp) and sent
// over SMTP with libcurl (smtp.hpp), to the address the kernel's network.resolve checked.
//
//   channel send   the interaction's text (and html, subject, reply_to) → SMTP
//
// Secrets of an account: smtp_password. Syncing the mailbox over IMAP is the next step.
#include "message.hpp"
#include "nucleo/sdk/plugin.hpp"
#include "smtp.hpp"

namespace {

using nucleo::sdk::Json;
namespace mail = nucleo::email;

Json server_schema(int default_port) {
  return {{"type", "object"},
          {"required", {"host"}},
          {"properties",
           {{"host", {{"type", "string"}, {"minLength", 1}, {"maxLength", 253}}},
            {"port", {{"type", "integer"}, {"minimum", 1}, {"maximum", 65535},
                      {"description", "default " + std::to_string(default_port)}}},
            {"security", {{"type", "string"}, {"enum", {"starttls", "tls", "none"}},
                          {"description", "starttls (default), tls (implicit, port 465) or none (a relay on your own network)"}}},
            {"username", {{"type", "string"}, {"maxLength", 320}}}}},
          {"additionalProperties", false}};
}

class Email : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json&) override {
    host_ = &host;
    Json account_schema = {{"type", "object"},
                           {"required", {"address", "smtp"}},
                           {"properties",
                            {{"address", {{"type", "string"}, {"format", "email"}}},
                             {"display_name", {{"type", "string"}, {"maxLength", 200}}},
                             {"smtp", server_schema(587)},
                             {"unknown_senders", {{"type", "string"}, {"enum", {"lead", "keep"}}}}}},
                           {"additionalProperties", false}};
    host.channel({{"name", "email"}, {"kinds", {"email"}}, {"config_schema", account_schema}},
                 [this](const nucleo::sdk::OutboundMessage& m) { return send(m); });
  }

 private:
  // A message the kernel queued: compose, send, and say how it went — a 4xx or an
  // unreachable server is retried by the kernel (UNAVAILABLE); anything else is final.
  Json send(const nucleo::sdk::OutboundMessage& m) {
    const Json& account = m.json.value("channel_account", Json::object());
    const Json& config = account.value("config", Json::object());
    const Json& content = m.json.value("content", Json::object());
    if (content.contains("template"))
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, "e-mail has no templates: send a text (and html)");
    mail::SmtpServer server = smtp_of(m, config, account.value("secrets", Json::object()));
    mail::Outgoing out;
    out.from = {config.value("display_name", ""), config.value("address", "")};
    out.to = {"", m.json.value("to", "")};
    out.subject = content.value("subject", "");
    out.text = content.value("text", "");
    out.html = content.value("html", "");
    out.interaction_id = content.value("interaction_id", "");
    if (content.value("reply_to", Json()).is_string()) out.references = {content["reply_to"].get<std::string>()};
    out.date_micros = host_->now_micros(m.call);
    std::string message;
    try {
      message = mail::compose(out);
    } catch (const std::invalid_argument& e) {
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, e.what());
    }
    mail::SmtpOutcome sent = mail::smtp_send(server, out.from.address, {out.to.address}, message);
    std::string account_id = account.value("id", "");
    if (sent.kind == mail::SmtpOutcome::Kind::sent) {
      if (!account.value("problem", Json()).is_null())
        host_->call(m.call, "channels.report", {{"channel_account_id", account_id}, {"problem", nullptr}});
      host_->count("messages_sent", Json::object());
      return Json{{"external_id", "<" + mail::message_id_for(out.interaction_id, out.from.address) + ">"},
                  {"delivery_status", "sent"}};
    }
    host_->count("send_errors", {{"outcome", sent.kind == mail::SmtpOutcome::Kind::retry ? "retry" : "failed"}});
    if (sent.credentials_refused)
      host_->call(m.call, "channels.report",
                  {{"channel_account_id", account_id}, {"problem", {{"code", "smtp_login_refused"}, {"message", sent.detail}}}});
    throw nucleo::sdk::Error(sent.kind == mail::SmtpOutcome::Kind::retry ? NUCLEO_UNAVAILABLE : NUCLEO_INVALID_ARGUMENT,
                             sent.detail);
  }

  // The account's SMTP server, at the address the kernel allows (a refused one is final).
  mail::SmtpServer smtp_of(const nucleo::sdk::OutboundMessage& m, const Json& config, const Json& secrets) {
    const Json& smtp = config.value("smtp", Json::object());
    mail::SmtpServer s;
    s.security = smtp.value("security", "starttls");
    s.host = smtp.value("host", "");
    s.port = smtp.value("port", s.security == "tls" ? 465 : 587);
    s.username = smtp.value("username", "");
    s.password = secrets.value("smtp_password", "");
    Json where;
    try {
      where = host_->call(m.call, "network.resolve", {{"host", s.host}, {"port", s.port}});
    } catch (const nucleo::sdk::Error& e) {
      if (e.status() == NUCLEO_UNAVAILABLE) throw;  // DNS may answer later
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("the SMTP server: ") + e.what());
    }
    s.address = where.value("addresses", Json::array()).at(0);
    s.ca_file = where.value("ca_file", "");
    return s;
  }

  nucleo::sdk::Host* host_ = nullptr;
};

}  // namespace

NUCLEO_PLUGIN(Email, "org.nucleo.email", "0.1.0")
