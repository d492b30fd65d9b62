// Issue #22 end to end: `nucleo serve` loads plugins/whatsapp by configuration; Meta's
// webhook is replayed over HTTP with real signatures; the Graph API is a fake on
// loopback (tests/support/http_recorder) answering Meta's documented bodies. An unknown
// number becomes a lead with an inbox row; the reply from the API reaches Graph; the
// status webhook ends it read; errors, retries and bad input behave. Both backends.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>
#include <fstream>
#include <mutex>
#include <functional>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/http_recorder.hpp"

namespace nucleo::test {
namespace {

constexpr const char* number = "106540352242922";
constexpr const char* app_secret = "e2e-app-secret-5f1a2b3c";
const std::string webhook = "/v1/x/org.nucleo.whatsapp/webhook";

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    const char* digits = "0123456789abcdef";
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

Json notification(const Json& value, const std::string& phone_number_id = number) {
  Json v = value;
  v["messaging_product"] = "whatsapp";
  v["metadata"] = {{"display_phone_number", "551140040000"}, {"phone_number_id", phone_number_id}};
  return {{"object", "whatsapp_business_account"},
          {"entry", {{{"id", "102290129340398"}, {"changes", {{{"value", v}, {"field", "messages"}}}}}}}};
}

// Meta's timestamps are Unix seconds; the reply window counts from them.
std::string now_seconds() {
  return std::to_string(std::time(nullptr));
}

Json text_from(const std::string& wa_id, const std::string& name, const std::string& id, const std::string& text) {
  return {{"contacts", {{{"profile", {{"name", name}}}, {"wa_id", wa_id}}}},
          {"messages", {{{"from", wa_id}, {"id", id}, {"timestamp", now_seconds()}, {"type", "text"},
                         {"text", {{"body", text}}}}}}};
}

Json status_of(const std::string& wamid, const std::string& status) {
  return {{"statuses", {{{"id", wamid}, {"status", status}, {"timestamp", now_seconds()}, {"recipient_id", "5521977776666"}}}}};
}

class WhatsApp : public ApiFixture {
 protected:
  void SetUp() override {
    std::ofstream(config_dir.path() + "/nucleo.properties")
        << "plugins.whatsapp.file = " << WHATSAPP_PLUGIN_DIR << "\n"
        << "outbound.allow = 127.0.0.1/32\noutbound.retries = 0\n"
        << "jobs.retry_first_ms = 50\njobs.retry_max_ms = 200\njobs.max_attempts = 3\n"
        << "automation.scan_schedule = every 1s\n";
    ApiFixture::SetUp();
    graph.respond_with([this](const RecordedRequest& r) { return graph_answer(r); });
    auto made = call("POST", "/v1/channels/accounts", admin,
                     {{"plugin_id", "org.nucleo.whatsapp"},
                      {"external_id", number},
                      {"name", "Vendas"},
                      {"config", {{"base_url", graph.url("/graph")}, {"api_version", "v21.0"}}},
                      {"secrets", {{"app_secret", app_secret}, {"verify_token", "meu-token"}, {"access_token", "EAAG-1"}}}});
    ASSERT_EQ(made.status, 201) << made.raw.body;
    account = made.body["id"];
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", config_dir.path() + "/nucleo.properties"};
  }
  // Graph's documented answers, by what the test scripted for the next sends.
  RecordedAnswer graph_answer(const RecordedRequest&) {
    std::lock_guard lock(graph_mutex);
    if (!scripted.empty()) {
      RecordedAnswer a = scripted.front();
      scripted.erase(scripted.begin());
      return a;
    }
    ++sent;
    return {200,
            Json{{"messaging_product", "whatsapp"},
                 {"contacts", {{{"input", "+5521977776666"}, {"wa_id", "5521977776666"}}}},
                 {"messages", {{{"id", "wamid.OUT" + std::to_string(sent)}}}}}
                .dump(),
            "application/json", graph_delay};
  }
  void script(std::vector<RecordedAnswer> answers) {
    std::lock_guard lock(graph_mutex);
    scripted = std::move(answers);
  }
  static RecordedAnswer graph_error(int status, int code, const std::string& message) {
    return {status, Json{{"error", {{"message", message}, {"type", "OAuthException"}, {"code", code},
                                    {"error_data", {{"messaging_product", "whatsapp"}, {"details", message}}},
                                    {"fbtrace_id", "AbCdEf"}}}}
                        .dump()};
  }
  Reply deliver(const std::string& body, const std::string& signature_secret = app_secret,
                const std::string& path = webhook) {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!signature_secret.empty()) headers["X-Hub-Signature-256"] = "sha256=" + hmac_hex(signature_secret, body);
    return call_raw("POST", path, "", body, headers);
  }
  Reply deliver(const Json& payload) { return deliver(payload.dump()); }

  TempDir config_dir;
  HttpRecorder graph;
  std::mutex graph_mutex;
  std::vector<RecordedAnswer> scripted;
  std::chrono::milliseconds graph_delay{0};  // how long Graph takes to accept a message
  int sent = 0;
  std::string account;
};

TEST_P(WhatsApp, AnUnknownNumberBecomesALeadAndTheReplyEndsRead) {
  // Meta's verification of the webhook URL.
  auto challenge = call_raw("GET", webhook + "/" + number + "?hub.mode=subscribe&hub.verify_token=meu-token&hub.challenge=1158201444",
                            "", "");
  EXPECT_EQ(challenge.status, 200);
  EXPECT_EQ(challenge.raw.body, "1158201444");
  EXPECT_EQ(call_raw("GET", webhook + "/" + number + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", "", "")
                .status,
            403);

  // A message from a number nobody knows.
  Json first = notification(text_from("5521977776666", "Bruno Souza", "wamid.IN1", "Quero um orçamento de sementes"));
  auto accepted = deliver(first);
  ASSERT_EQ(accepted.status, 200) << accepted.raw.body;
  Json inbox = until("/v1/conversations", [](const Json& b) { return b.value("data", Json::array()).size() == 1; });
  Json chat = inbox["data"][0];
  EXPECT_EQ(chat["contact_name"], "Bruno Souza");
  EXPECT_EQ(chat["type"], "whatsapp");
  EXPECT_EQ(chat["unanswered"], true);
  EXPECT_EQ(chat["unread_count"], 1);
  EXPECT_EQ(chat["reply_window"]["open"], true);
  std::string lead = chat["contact_id"];
  Json contact = call("GET", "/v1/contacts/" + lead, admin).body;
  EXPECT_EQ(contact["name"], "Bruno Souza");  // a lead: named by the WhatsApp profile, on no account yet
  EXPECT_TRUE(contact["account_id"].is_null());
  EXPECT_EQ(contact["phone"], "+5521977776666");
  std::string inbound = chat["last_message"]["id"];
  Json in = call("GET", "/v1/interactions/" + inbound, admin).body;
  EXPECT_EQ(in["body"], "Quero um orçamento de sementes");
  EXPECT_EQ(in["direction"], "inbound");
  EXPECT_EQ(in["external_id"], "wamid.IN1");

  // Meta delivers again: nothing new.
  ASSERT_EQ(deliver(first).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(call("GET", "/v1/conversations/" + chat["id"].get<std::string>() + "/messages", admin).body["data"].size(), 1u);

  // The reply from the API reaches Graph, in reply to the message.
  auto reply = call("POST", "/v1/contacts/" + lead + "/messages", manager,
                    {{"channel_account_id", account}, {"text", "Olá, Bruno! Envio hoje."}, {"reply_to", inbound}});
  ASSERT_EQ(reply.status, 202) << reply.raw.body;
  std::string out = reply.body["id"];
  auto requests = graph.wait_for([](const auto& r) { return r.size() >= 1; });
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, std::string("/graph/v21.0/") + number + "/messages");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer EAAG-1");
  Json graph_body = Json::parse(requests[0].body);
  EXPECT_EQ(graph_body["to"], "5521977776666");
  EXPECT_EQ(graph_body["text"]["body"], "Olá, Bruno! Envio hoje.");
  EXPECT_EQ(graph_body["context"]["message_id"], "wamid.IN1");
  Json sent_out = interaction_when(out, "sent");
  EXPECT_EQ(sent_out["external_id"], "wamid.OUT1");

  // Read arrives before delivered: it ends read.
  ASSERT_EQ(deliver(notification(status_of("wamid.OUT1", "read"))).status, 200);
  interaction_when(out, "read");
  ASSERT_EQ(deliver(notification(status_of("wamid.OUT1", "delivered"))).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(call("GET", "/v1/interactions/" + out, admin).body["delivery_status"], "read");
  chat = call("GET", "/v1/conversations/" + chat["id"].get<std::string>(), admin).body;
  EXPECT_EQ(chat["unanswered"], false);
  EXPECT_EQ(chat["last_message"]["direction"], "outbound");
  EXPECT_EQ(chat["last_message"]["delivery_status"], "read");
}

TEST_P(WhatsApp, TheCustomer360ShowsTheConversationAndTemplatesOpenIt) {
  std::string acme = call("POST", "/v1/accounts", admin, {{"legal_name", "Cooperativa Agro Sul"}}).body["id"];
  std::string ana = call("POST", "/v1/contacts", admin,
                         {{"name", "Ana Lima"}, {"phone", "+55 11 98765-4321"}, {"account_id", acme}})
                        .body["id"];
  // Free text before Ana ever wrote is refused before anything reaches Meta.
  auto early = call("POST", "/v1/contacts/" + ana + "/messages", manager, {{"channel_account_id", account}, {"text", "Oi"}});
  EXPECT_EQ(early.status, 422) << early.raw.body;
  EXPECT_NE(early.raw.body.find("template"), std::string::npos) << early.raw.body;
  EXPECT_EQ(early.body["errors"][0]["code"], "outside_reply_window");
  // A template opens it: header and body parameters, a currency and a date_time among them.
  Json components = Json::parse(R"([
    {"type": "header", "parameters": [{"type": "text", "text": "Safra 2026"}]},
    {"type": "body", "parameters": [
      {"type": "currency", "currency": {"fallback_value": "R$ 1.234,56", "code": "BRL", "amount_1000": 1234560}},
      {"type": "date_time", "date_time": {"fallback_value": "15 de março de 2026"}}]}])");
  // Marketing on WhatsApp is the plugin's declared purpose; Ana opted in on a form (issue #30).
  auto purposes = call("GET", "/v1/privacy/purposes", manager);
  ASSERT_EQ(purposes.status, 200) << purposes.raw.body;
  EXPECT_NE(purposes.raw.body.find(R"("declared_by":"org.nucleo.whatsapp")"), std::string::npos) << purposes.raw.body;
  auto opted_in = call("POST", "/v1/contacts/" + ana + "/consents", manager,
                       {{"purpose", "marketing_whatsapp"}, {"action", "grant"}, {"legal_basis", "consent"},
                        {"source", {{"type", "form"}, {"reference", "feira-agro-2026"}}},
                        {"notice", "Aceito receber ofertas pelo WhatsApp (aviso v2)"}});
  ASSERT_EQ(opted_in.status, 201) << opted_in.raw.body;
  auto templ = call("POST", "/v1/contacts/" + ana + "/messages", manager,
                    {{"channel_account_id", account}, {"purpose", "marketing_whatsapp"},
                     {"template", {{"name", "proposta_enviada"}, {"language", "pt_BR"}, {"components", components}}}});
  ASSERT_EQ(templ.status, 202) << templ.raw.body;
  auto requests = graph.wait_for([](const auto& r) { return r.size() >= 1; });
  ASSERT_EQ(requests.size(), 1u);
  Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["to"], "5511987654321");
  EXPECT_EQ(body["type"], "template");
  EXPECT_EQ(body["template"]["language"]["code"], "pt_BR");
  EXPECT_EQ(body["template"]["components"], components);
  interaction_when(templ.body["id"], "sent");

  // Ana answers from the number without the ninth digit, with a photo.
  Json photo = {{"contacts", {{{"profile", {{"name", "Ana"}}}, {"wa_id", "551187654321"}}}},
                {"messages", {{{"from", "551187654321"}, {"id", "wamid.IMG"}, {"timestamp", now_seconds()}, {"type", "image"},
                               {"image", {{"caption", "Nota fiscal"}, {"mime_type", "image/jpeg"}, {"sha256", "H"},
                                          {"id", "1003383421387256"}}}}}}};
  ASSERT_EQ(deliver(notification(photo)).status, 200);
  Json timeline = until("/v1/accounts/" + acme + "/timeline", [](const Json& t) {
    for (const auto& item : t.value("data", Json::array()))
      if (item.dump().find("Nota fiscal") != std::string::npos) return true;
    return false;
  });
  std::string all = timeline.dump();
  EXPECT_NE(all.find("Nota fiscal"), std::string::npos);
  EXPECT_NE(all.find(templ.body["id"].get<std::string>()), std::string::npos) << all;
  Json inbox = call("GET", "/v1/conversations?contact_id=" + ana, admin).body;
  ASSERT_EQ(inbox["data"].size(), 1u);  // one conversation for both forms of her number
  EXPECT_EQ(inbox["data"][0]["unread_count"], 1);
  EXPECT_EQ(inbox["data"][0]["reply_window"]["open"], true);  // she wrote: free text may follow
  Json thread = call("GET", "/v1/conversations/" + inbox["data"][0]["id"].get<std::string>() + "/messages", admin).body;
  ASSERT_EQ(thread["data"].size(), 2u);
  Json image;
  for (const auto& m : thread["data"])
    if (m["direction"] == "inbound") image = m;
  EXPECT_EQ(image["content"]["kind"], "image");
  EXPECT_EQ(image["content"]["image"]["id"], "1003383421387256");  // the media id, for a later download
  EXPECT_EQ(image["body"], "Nota fiscal");
  EXPECT_EQ(call("POST", "/v1/contacts/" + ana + "/messages", manager, {{"channel_account_id", account}, {"text", "Recebido!"}})
                .status,
            202);

  // "SAIR": revoking is as easy as granting (LGPD art. 8 §5). The ledger says so, with the
  // message as its source, and the next offer is refused before anything reaches Meta.
  ASSERT_EQ(deliver(notification(text_from("551187654321", "Ana", "wamid.STOP", "  Sair! "))).status, 200);
  Json ledger = until("/v1/contacts/" + ana + "/consents", [](const Json& c) {
    return c.value("purposes", Json::array()).size() == 1 && c["purposes"][0]["state"] == "revoked";
  });
  ASSERT_EQ(ledger["entries"].size(), 2u) << ledger;
  EXPECT_EQ(ledger["entries"][1]["source"], (Json{{"type", "channel_message"}, {"reference", "wamid.STOP"}}));
  EXPECT_EQ(ledger["entries"][1]["actor"]["type"], "plugin");
  std::size_t reached = graph.requests().size();
  auto offer = call("POST", "/v1/contacts/" + ana + "/messages", manager,
                    {{"channel_account_id", account}, {"purpose", "marketing_whatsapp"},
                     {"template", {{"name", "oferta_safra"}, {"language", "pt_BR"}}}});
  EXPECT_EQ(offer.status, 422) << offer.raw.body;
  EXPECT_EQ(offer.body["errors"][0]["code"], "no_legal_basis") << offer.raw.body;
  EXPECT_EQ(graph.requests().size(), reached);
  auto search = call("POST", "/v1/contacts/search", manager,
                     {{"filter_groups", {{{"filters", {{{"field", "consent.marketing_whatsapp"}, {"op", "eq"},
                                                        {"value", "granted"}}}}}}}});
  ASSERT_EQ(search.status, 200) << search.raw.body;
  EXPECT_TRUE(search.body["data"].empty()) << search.raw.body;
}

// Issue #31: a cadence's WhatsApp step goes through the plugin to Graph as a template
// (the contact never wrote), and her reply on Meta's webhook stops the cadence before
// its next step.
TEST_P(WhatsApp, ACadenceSendsItsTemplateAndTheContactsReplyStopsIt) {
  ASSERT_EQ(call("PUT", "/v1/privacy/purposes/prospeccao", admin, {{"description", "contato comercial"}}).status, 200);
  std::string contact = call("POST", "/v1/contacts", admin, {{"name", "Bruno Souza"}, {"phone", "+5521977776666"}}).body["id"];
  auto granted = call("POST", "/v1/contacts/" + contact + "/consents", admin,
                      {{"purpose", "prospeccao"}, {"action", "grant"}, {"legal_basis", "consent"},
                       {"source", {{"type", "form"}, {"reference", "feira"}}}, {"notice", "Aviso v1"}});
  ASSERT_EQ(granted.status, 201) << granted.raw.body;
  Json cadence = {{"name", "Sementes"}, {"purpose", "prospeccao"},
                  {"working_hours", {{"start", 0}, {"end", 24}, {"days", {0, 1, 2, 3, 4, 5, 6}}}},
                  {"gap_hours", 0},
                  {"steps", {{{"delay_days", 0}, {"type", "message"}, {"channel_account_id", account},
                              {"text", "Olá {{contact.name}}"},
                              {"template", {{"name", "oferta_safra"}, {"language", "pt_BR"}}}},
                             {{"delay_days", 1}, {"type", "message"}, {"channel_account_id", account},
                              {"template", {{"name", "lembrete"}, {"language", "pt_BR"}}}}}}};
  auto created = call("POST", "/v1/cadences", admin, cadence);
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"];
  auto enrolled = call("POST", "/v1/cadences/" + id + "/enrolments", admin, {{"contact_id", contact}});
  ASSERT_EQ(enrolled.status, 201) << enrolled.raw.body;
  auto sent_now = graph.wait_for([](const auto& r) { return r.size() >= 1; });
  ASSERT_EQ(sent_now.size(), 1u) << "the first step never reached Graph";
  EXPECT_NE(sent_now[0].body.find("oferta_safra"), std::string::npos) << sent_now[0].body;
  Json after_step = until("/v1/cadences/" + id + "/enrolments", [](const Json& b) {
    return b["data"].size() == 1 && b["data"][0]["step"] == 1;
  });
  EXPECT_EQ(after_step["data"][0]["status"], "active");

  ASSERT_EQ(deliver(notification(text_from("5521977776666", "Bruno Souza", "wamid.IN9", "Pode me ligar?"))).status, 200);
  Json stopped = until("/v1/cadences/" + id + "/enrolments", [](const Json& b) {
    return b["data"].size() == 1 && b["data"][0]["status"] == "stopped";
  });
  EXPECT_EQ(stopped["data"][0]["stop_reason"], "replied");
  EXPECT_EQ(graph.requests().size(), 1u);
}

TEST_P(WhatsApp, GraphErrorsRetryOrFailClearlyAndAnExpiredTokenShowsOnTheAccount) {
  std::string ana = call("POST", "/v1/contacts", admin, {{"name", "Ana"}, {"phone", "+5521977776666"}}).body["id"];
  ASSERT_EQ(deliver(notification(text_from("5521977776666", "Ana", "wamid.IN9", "Oi"))).status, 200);
  until("/v1/conversations", [](const Json& b) { return b.value("data", Json::array()).size() == 1; });
  auto send = [&](const std::string& text) {
    auto r = call("POST", "/v1/contacts/" + ana + "/messages", manager, {{"channel_account_id", account}, {"text", text}});
    EXPECT_EQ(r.status, 202) << r.raw.body;
    return r.body.value("id", "");
  };
  // Busy, then throttled (130429), then accepted: retried with back-off until sent.
  script({{503, "busy", "text/plain"}, graph_error(400, 130429, "Rate limit hit")});
  std::string retried = send("primeira");
  interaction_when(retried, "sent");
  EXPECT_EQ(graph.requests().size(), 3u);

  // A slow Graph (1.5 s to accept) is waited for, not retried.
  {
    std::lock_guard lock(graph_mutex);
    graph_delay = std::chrono::milliseconds(1500);
  }
  std::string slow = send("devagar");
  interaction_when(slow, "sent");
  {
    std::lock_guard lock(graph_mutex);
    graph_delay = std::chrono::milliseconds(0);
  }
  EXPECT_EQ(graph.requests().size(), 4u);

  // Undeliverable: failed at once, with a message a person can act on.
  script({graph_error(400, 131026, "Message Undeliverable")});
  std::string undeliverable = send("segunda");
  Json failed = interaction_when(undeliverable, "failed");
  EXPECT_NE(failed["content"]["error"].get<std::string>().find("undeliverable"), std::string::npos) << failed;
  EXPECT_EQ(graph.requests().size(), 5u);  // a 4xx is never retried

  // Down for good: the last attempt fails the message.
  script({{500, "", "text/plain"}, {502, "", "text/plain"}, {503, "", "text/plain"}});
  Json gave_up = interaction_when(send("terceira"), "failed");
  EXPECT_EQ(graph.requests().size(), 8u);  // jobs.max_attempts = 3
  EXPECT_NE(gave_up["content"]["error"].get<std::string>().find("Graph 503"), std::string::npos) << gave_up;

  // An expired token fails the message and shows on the channel account until a send succeeds.
  script({graph_error(401, 190, "Error validating access token: Session has expired")});
  interaction_when(send("quarta"), "failed");
  Json shown = until("/v1/channels/accounts/" + account, [](const Json& a) { return !a.value("problem", Json()).is_null(); });
  EXPECT_EQ(shown["problem"]["code"], "access_token_invalid");
  ASSERT_EQ(call("PATCH", "/v1/channels/accounts/" + account, admin, {{"secrets", {{"access_token", "EAAG-2"}}}}).status, 200);
  interaction_when(send("quinta"), "sent");
  until("/v1/channels/accounts/" + account, [](const Json& a) { return a.value("problem", Json(1)).is_null(); });
  EXPECT_EQ(graph.requests().back().headers.at("authorization"), "Bearer EAAG-2");

  // Meta reports a failure later, with its errors.
  Json failure = {{"statuses", {{{"id", "wamid.OUT3"}, {"status", "failed"}, {"timestamp", now_seconds()},
                                 {"recipient_id", "5521977776666"},
                                 {"errors", {{{"code", 131047}, {"title", "Re-engagement message"},
                                              {"error_data", {{"details", "more than 24 hours have passed"}}}}}}}}}};
  // wamid.OUT3 is the last send's id (sent counts Graph's successes: primeira, devagar, quinta).
  ASSERT_EQ(deliver(notification(failure)).status, 200);
  std::string last_id = call("GET", "/v1/conversations", admin).body["data"][0]["last_message"]["id"];
  Json late = interaction_when(last_id, "failed");
  EXPECT_NE(late["content"]["error"].get<std::string>().find("131047"), std::string::npos) << late;
}

TEST_P(WhatsApp, BadInputGetsAClearAnswerAndNeverCostsAValidMessage) {
  Json valid = notification(text_from("5521977776666", "Bruno", "wamid.OK", "válida"));
  EXPECT_EQ(deliver(valid.dump(), "").status, 401);           // no signature
  EXPECT_EQ(deliver(valid.dump(), "not the secret").status, 401);  // a wrong one
  auto malformed = deliver(std::string("{\"object\": \"whatsapp_business_account\", \"entry\": ["));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.raw.body.find("not JSON"), std::string::npos) << malformed.raw.body;
  EXPECT_EQ(deliver(Json{{"object", "page"}}).status, 400);
  auto stranger = deliver(notification(text_from("5521977776666", "X", "wamid.X", "x"), "999999"));
  EXPECT_EQ(stranger.status, 404);
  EXPECT_NE(stranger.raw.body.find("999999"), std::string::npos);
  // Larger than http.body_limit: refused from its Content-Length, its body never read.
  EXPECT_EQ(call_raw("POST", webhook, "", "", {{"Content-Length", std::to_string(9 << 20)},
                                               {"X-Hub-Signature-256", "sha256=00"}}).status,
            413);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(call("GET", "/v1/conversations", admin).body["data"].empty());  // none of those wrote anything

  // A batch with an entry of an unknown shape, a change of another field, a message the
  // kernel cannot read and a valid one: the valid one lands.
  Json batch = valid;
  batch["entry"].push_back({{"id", "?"}, {"changes", {{{"field", "account_update"}, {"value", {{"event", "x"}}}}}}});
  batch["entry"].push_back({{"id", "?"}, {"weird", true}});
  batch["entry"][0]["changes"][0]["value"]["messages"].push_back(
      {{"from", "not-a-number"}, {"id", "wamid.BAD"}, {"timestamp", now_seconds()}, {"type", "text"}, {"text", {{"body", "?"}}}});
  ASSERT_EQ(deliver(batch).status, 200);
  Json inbox = until("/v1/conversations", [](const Json& b) { return b.value("data", Json::array()).size() == 1; });
  EXPECT_EQ(inbox["data"][0]["last_message"]["preview"], "válida");
  // The server is still up and answering.
  EXPECT_EQ(call("GET", "/v1/conversations", admin).status, 200);
}

// One notification naming numbers of two tenants: each number's changes land in its own
// tenant, and only when that number's own app secret signed the body.
TEST_P(WhatsApp, ABatchForTwoTenantsLandsInEachAndEachSecretVouchesOnlyForItsOwn) {
  std::string other = h->create_tenant("Outra Revenda");
  std::string admin_b = user_key(other, "admin");
  for (const auto& [number, secret] : std::vector<std::pair<std::string, std::string>>{
           {"200000000000002", app_secret}, {"300000000000003", "tenant B's other app"}}) {
    auto made = call("POST", "/v1/channels/accounts", admin_b,
                     {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", number},
                      {"secrets", {{"app_secret", secret}, {"access_token", "EAAG-B"}}}});
    ASSERT_EQ(made.status, 201) << made.raw.body;
  }
  Json batch = notification(text_from("5521977776666", "Para A", "wamid.A", "para o tenant A"));
  for (const auto& [number, id] : std::vector<std::pair<std::string, std::string>>{{"200000000000002", "wamid.B"},
                                                                                   {"300000000000003", "wamid.C"}})
    batch["entry"].push_back(notification(text_from("5521966665555", "Para B", id, "para o tenant B"), number)["entry"][0]);
  auto accepted = deliver(batch);
  ASSERT_EQ(accepted.status, 200) << accepted.raw.body;
  EXPECT_EQ(accepted.body["queued"], 2);  // A's and B's first number; not the one whose secret differs
  until("/v1/conversations", [](const Json& b) { return b.value("data", Json::array()).size() == 1; });
  Json inbox_b;
  for (int i = 0; i < 200; ++i) {
    inbox_b = call("GET", "/v1/conversations", admin_b).body;
    if (!inbox_b.value("data", Json::array()).empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(inbox_b["data"].size(), 1u) << inbox_b;
  EXPECT_EQ(inbox_b["data"][0]["last_message"]["preview"], "para o tenant B");
  EXPECT_EQ(inbox_b["data"][0]["tenant_id"], other);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(call("GET", "/v1/conversations", admin).body["data"].size(), 1u);  // nothing of B's in A
  EXPECT_EQ(call("GET", "/v1/conversations", admin_b).body["data"].size(), 1u);  // wamid.C was never accepted
}

INSTANTIATE_TEST_SUITE_P(Backends, WhatsApp, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
