// The WhatsApp Business Cloud API channel (docs/channels/whatsapp.md), built on the SDK
// alone — the reference channel plugin for authors (docs/plugin-authoring.md).
//
//   GET  /webhook[/{phone_number_id}]  Meta's verification: hub.verify_token → hub.challenge
//   POST /webhook[/{phone_number_id}]  Meta's notifications: signature checked per channel
//        account, each number's changes queued (job "inbound") before the 200
//   job  inbound                       messages → conversations.receive, statuses → conversations.status
//   channel send                       POST {base_url}/{api_version}/{phone_number_id}/messages
#include "graph.hpp"
#include "nucleo/sdk/plugin.hpp"
#include "webhook.hpp"

namespace {

using nucleo::sdk::Json;
using nucleo::sdk::Response;
namespace wa = nucleo::whatsapp;

// How often a job retries statuses for messages not known yet (Meta may report "sent"
// before the send's own answer was recorded).
constexpr int status_attempts = 4;

// An HTTP problem (RFC 9457) shaped like the kernel's own, request id included.
Response problem(const nucleo::sdk::Request& request, int status, const std::string& detail) {
  static const std::map<int, std::string> titles{
      {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"}};
  Response r{status, {{"type", "about:blank"}, {"title", titles.at(status)}, {"status", status}, {"detail", detail},
                      {"request_id", request.json.value("request_id", "")}, {"errors", Json::array()}}};
  r.headers = {{"Content-Type", "application/problem+json"}};
  return r;
}

std::string secret_of(const Json& account, const char* name, const Json& config) {
  const Json& secrets = account.value("secrets", Json::object());
  if (secrets.value(name, Json()).is_string() && !secrets[name].get<std::string>().empty()) return secrets[name];
  // A deployment whose one Meta app serves every tenant may set it once, in the plugin's config.
  return config.value(name, Json()).is_string() ? config[name].get<std::string>() : "";
}

class WhatsApp : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    host_ = &host;
    config_ = config;
    Json account_schema = {
        {"type", "object"},
        {"properties",
         {{"base_url", {{"type", "string"}, {"pattern", "^https?://[^/?#]+(/[^?#]*)?$"},
                        {"description", "the Graph API's root (default https://graph.facebook.com)"}}},
          {"api_version", {{"type", "string"}, {"pattern", "^v[0-9]+\\.[0-9]+$"},
                           {"description", "the Graph API version (default v21.0)"}}},
          {"unknown_senders", {{"type", "string"}, {"enum", {"lead", "keep"}}}},
          {"display_phone_number", {{"type", "string"}, {"maxLength", 40}}}}},
        {"additionalProperties", false}};
    host.channel({{"name", "whatsapp-cloud"},
                  {"kinds", {"whatsapp"}},
                  {"reply_window_hours", 24},
                  {"config_schema", account_schema}},
                 [this](const nucleo::sdk::OutboundMessage& m) { return send(m); });
    for (const std::string path : {"/webhook", "/webhook/{phone_number_id}"}) {
      host.route("GET", path, nucleo::sdk::Auth::signed_, [this](const nucleo::sdk::Request& r) { return verify(r); });
      host.route("POST", path, nucleo::sdk::Auth::signed_, [this](const nucleo::sdk::Request& r) { return accept(r); });
    }
    host.job("inbound", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) { process(j); });
  }

 private:
  // Meta's subscription check: answer hub.challenge exactly when the token is ours.
  Response verify(const nucleo::sdk::Request& r) {
    std::string expected;
    std::string number = r.param("phone_number_id");
    if (!number.empty()) {
      try {
        Json account = host_->call(r.call, "channels.resolve", {{"external_id", number}});
        expected = secret_of(account, "verify_token", config_);
      } catch (const nucleo::sdk::Error&) {
        // An unknown number verifies nothing: the same 403 as a wrong token.
      }
    } else {
      expected = config_.value("verify_token", "");
    }
    if (r.query("hub.mode") != "subscribe" || expected.empty() || !wa::same_secret(r.query("hub.verify_token"), expected))
      return problem(r, 403, "hub.mode must be subscribe and hub.verify_token the channel account's verify_token");
    count("webhook_verifications", "ok");
    return Response::raw(200, "text/plain", r.query("hub.challenge"));
  }

  // A notification: every number's changes are checked against that number's app secret
  // and queued in its tenant before the 200, so nothing is lost after it and Meta never
  // waits for the kernel to process them.
  Response accept(const nucleo::sdk::Request& r) {
    std::string raw = r.raw_body();
    std::string signature = r.header("x-hub-signature-256");
    if (signature.empty()) return counted(problem(r, 401, "X-Hub-Signature-256 is missing"), "unsigned");
    Json payload = Json::parse(raw, nullptr, false);
    if (payload.is_discarded()) return counted(problem(r, 400, "the body is not JSON"), "malformed");
    wa::Batch batch;
    try {
      batch = wa::split(payload);
    } catch (const std::invalid_argument& e) {
      return counted(problem(r, 400, e.what()), "malformed");
    }
    for (const auto& why : batch.skipped) host_->log(nucleo::sdk::Level::warning, "webhook: skipped " + why);
    std::size_t queued = 0, unknown = 0, forged = 0;
    std::string unknown_numbers;
    for (const auto& [number, values] : batch.values_by_number) {
      Json account;
      try {
        account = host_->call(r.call, "channels.resolve", {{"external_id", number}});
      } catch (const nucleo::sdk::Error& e) {
        if (e.status() != NUCLEO_NOT_FOUND) throw;  // the kernel is unwell: Meta retries the 5xx
        ++unknown;
        unknown_numbers += (unknown_numbers.empty() ? "" : ", ") + number;
        continue;
      }
      if (!wa::signature_matches(signature, secret_of(account, "app_secret", config_), raw)) {
        ++forged;
        host_->log(nucleo::sdk::Level::warning, "webhook: the signature does not match the app secret of channel account " +
                                                    account.value("id", "") + " (phone_number_id " + number + ")");
        continue;
      }
      for (const auto& value : values)
        host_->enqueue(r.call, "inbound", {{"channel_account_id", account["id"]}, {"value", value}});
      queued += values.size();
    }
    if (queued == 0 && forged > 0) return counted(problem(r, 401, "X-Hub-Signature-256 does not match the app secret"), "forged");
    if (queued == 0 && unknown > 0)
      return counted(problem(r, 404, "no WhatsApp channel account has phone_number_id " + unknown_numbers), "unknown_number");
    count("webhook_requests", "accepted");
    return Response{200, {{"queued", queued}, {"unknown_numbers", unknown}, {"skipped", batch.skipped.size()}}};
  }

  // The queued changes of one number: messages become interactions, statuses move them.
  void process(const nucleo::sdk::Job& j) {
    Json payload = j.payload();
    std::string account = payload.value("channel_account_id", "");
    wa::Translated t = wa::translate(payload.value("value", Json::object()));
    for (const auto& why : t.skipped) host_->log(nucleo::sdk::Level::info, "inbound: skipped " + why);
    for (const auto& message : t.messages) {
      try {
        Json received =
            host_->call(j.call, "conversations.receive", {{"channel_account_id", account}, {"message", message}});
        host_->count("messages_received", {{"kind", message["content"].value("kind", "unknown")}});
        revoke_if_opt_out(j.call, message, received);
      } catch (const nucleo::sdk::Error& e) {
        // A message the kernel refuses (a sender it cannot read) is logged, not retried;
        // the rest of the batch goes on. Anything else retries the job: receive is idempotent.
        if (e.status() != NUCLEO_INVALID_ARGUMENT) throw;
        host_->log(nucleo::sdk::Level::error, "inbound: message " + message.value("external_id", "") + " refused: " + e.what());
        host_->count("messages_refused", Json::object());
      }
    }
    std::size_t unknown = 0;
    for (const auto& status : t.statuses) {
      try {
        host_->call(j.call, "conversations.status", {{"channel_account_id", account}, {"status", status}});
        host_->count("statuses_received", {{"status", status["status"]}});
      } catch (const nucleo::sdk::Error& e) {
        if (e.status() != NUCLEO_NOT_FOUND) throw;
        ++unknown;
      }
    }
    // Statuses may outrun the send's own answer: retry a few times (forward-only, so a
    // replay changes nothing), then let them go — a message sent outside Nucleo has none.
    if (unknown > 0 && j.json.value("attempt", 1) < status_attempts)
      throw nucleo::sdk::Error(NUCLEO_UNAVAILABLE, std::to_string(unknown) + " status(es) for messages not known yet");
    if (unknown > 0) host_->log(nucleo::sdk::Level::info, "inbound: " + std::to_string(unknown) + " status(es) for unknown messages dropped");
  }

  static constexpr const char* default_opt_out_keywords =  // as plugin.json's default
      "sair,stop,parar,cancelar,descadastrar,parar promoções,stop promotions";
  // "SAIR", "STOP", Meta's "Parar promoções" button…: the sender revokes the purpose
  // marketing on WhatsApp is sent for, as easily as she granted it (LGPD art. 8 §5). Once
  // per message, also when the job runs again (the entry's idempotency key).
  void revoke_if_opt_out(const nucleo_call* call, const Json& message, const Json& received) {
    if (!wa::is_opt_out(message.value("text", ""), config_.value("opt_out_keywords", default_opt_out_keywords))) return;
    const Json contact = received.value("interaction", Json::object()).value("contact_id", Json());
    if (!contact.is_string()) return;  // an unknown sender kept without a contact: nobody to revoke for
    std::string purpose = config_.value("opt_out_purpose", "marketing_whatsapp");
    host_->call(call, "consent.record",
                {{"contact_id", contact},
                 {"purpose", purpose},
                 {"action", "revoke"},
                 {"source", {{"type", "channel_message"}, {"reference", message.value("external_id", "")}}},
                 {"idempotency_key", "opt-out:" + message.value("external_id", "")}});
    host_->count("opt_outs", Json::object());
    host_->log(nucleo::sdk::Level::info, "inbound: " + contact.get<std::string>() + " opted out of " + purpose);
  }

  Json send(const nucleo::sdk::OutboundMessage& m) {
    const Json& account = m.json.value("channel_account", Json::object());
    Json request;
    try {
      request = wa::graph_request(m.json);
    } catch (const std::invalid_argument& e) {
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, e.what());
    }
    Json reply = host_->http(m.call, request);  // throws UNAVAILABLE on network errors: retried
    std::string body = nucleo::sdk::detail::from_base64(reply.value("body_base64", ""));
    wa::SendOutcome outcome = wa::interpret(reply.value("status", 0), body);
    std::string account_id = account.value("id", "");
    if (outcome.kind == wa::SendOutcome::Kind::sent) {
      if (!account.value("problem", Json()).is_null())
        host_->call(m.call, "channels.report", {{"channel_account_id", account_id}, {"problem", nullptr}});
      host_->count("messages_sent", Json::object());
      return Json{{"external_id", outcome.external_id}, {"delivery_status", "accepted"}};
    }
    host_->count("send_errors", {{"outcome", outcome.kind == wa::SendOutcome::Kind::retry ? "retry" : "failed"}});
    if (outcome.token_problem)
      host_->call(m.call, "channels.report",
                  {{"channel_account_id", account_id}, {"problem", {{"code", "access_token_invalid"}, {"message", outcome.error}}}});
    throw nucleo::sdk::Error(outcome.kind == wa::SendOutcome::Kind::retry ? NUCLEO_UNAVAILABLE : NUCLEO_INVALID_ARGUMENT,
                             outcome.error);
  }

  void count(const std::string& name, const std::string& outcome) { host_->count(name, {{"outcome", outcome}}); }
  Response counted(Response r, const std::string& outcome) {
    count("webhook_requests", outcome);
    return r;
  }

  nucleo::sdk::Host* host_ = nullptr;
  Json config_;
};

}  // namespace

NUCLEO_PLUGIN(WhatsApp, "org.nucleo.whatsapp", "1.0.0")
