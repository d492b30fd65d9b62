// Issue #22, the WhatsApp plugin without a kernel: payloads shaped exactly as Meta's
// webhook reference documents them, signatures right and wrong, Graph's requests and
// error answers — through the SDK's fake host, as the plugin's author tests it.
#include <gtest/gtest.h>

#include "graph.hpp"
#include "nucleo/sdk/testing/fake_host.hpp"
#include "webhook.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::whatsapp {
namespace {

using sdk::testing::FakeHost;

constexpr const char* app_secret = "5f1a2b3c4d5e6f708192a3b4c5d6e7f8";
constexpr const char* number = "106540352242922";

// One notification as Meta sends it: entry[].changes[].value with the number's metadata.
Json notification(const Json& value, const std::string& phone_number_id = number) {
  Json v = value;
  v["messaging_product"] = "whatsapp";
  v["metadata"] = {{"display_phone_number", "15550783881"}, {"phone_number_id", phone_number_id}};
  return {{"object", "whatsapp_business_account"},
          {"entry", {{{"id", "102290129340398"}, {"changes", {{{"value", v}, {"field", "messages"}}}}}}}};
}

Json text_message(const std::string& id, const std::string& from, const std::string& body) {
  return {{"from", from}, {"id", id}, {"timestamp", "1749416383"}, {"type", "text"}, {"text", {{"body", body}}}};
}

Json contacts(const std::string& wa_id, const std::string& name) {
  return Json::array({{{"profile", {{"name", name}}}, {"wa_id", wa_id}}});
}

std::string signed_with(const std::string& secret, const std::string& body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

TEST(WhatsAppWebhook, SignaturesAreHmacSha256OfTheRawBody) {
  std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  // The documented construction, computed independently: `echo -n body | openssl dgst -sha256 -hmac secret`.
  EXPECT_EQ(hmac_sha256_hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_TRUE(signature_matches(signed_with(app_secret, body), app_secret, body));
  std::string upper = signed_with(app_secret, body);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(signature_matches("sha256=" + upper.substr(7), app_secret, body));  // hex in either case
  EXPECT_FALSE(signature_matches(signed_with("another secret", body), app_secret, body));
  EXPECT_FALSE(signature_matches(signed_with(app_secret, body + " "), app_secret, body));  // the exact bytes
  EXPECT_FALSE(signature_matches(hmac_sha256_hex(app_secret, body), app_secret, body));     // no sha256= prefix
  EXPECT_FALSE(signature_matches("sha256=", app_secret, body));
  EXPECT_FALSE(signature_matches(signed_with("", body), "", body));  // no secret verifies nothing
  EXPECT_TRUE(same_secret("token", "token"));
  EXPECT_FALSE(same_secret("token", "tokeN"));
  EXPECT_FALSE(same_secret("token", "token2"));
}

TEST(WhatsAppWebhook, EveryDocumentedMessageTypeBecomesAMessageWithItsContent) {
  Json value = {
      {"contacts", contacts("5511987654321", "Ana Lima")},
      {"messages",
       {text_message("wamid.T", "5511987654321", "Bom dia"),
        {{"from", "5511987654321"}, {"id", "wamid.I"}, {"timestamp", "1749416390"}, {"type", "image"},
         {"image", {{"caption", "Foto da nota fiscal"}, {"mime_type", "image/jpeg"},
                    {"sha256", "IMAGE_HASH"}, {"id", "1003383421387256"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.B"}, {"timestamp", "1749416391"}, {"type", "interactive"},
         {"interactive", {{"type", "button_reply"}, {"button_reply", {{"id", "sim"}, {"title", "Sim, pode ligar"}}}}},
         {"context", {{"from", "15550783881"}, {"id", "wamid.OUT1"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.L"}, {"timestamp", "1749416392"}, {"type", "interactive"},
         {"interactive", {{"type", "list_reply"}, {"list_reply", {{"id", "p2"}, {"title", "Plano Safra"}, {"description", "x"}}}}}},
        {{"from", "5511987654321"}, {"id", "wamid.R"}, {"timestamp", "1749416393"}, {"type", "reaction"},
         {"reaction", {{"message_id", "wamid.OUT1"}, {"emoji", "\xF0\x9F\x91\x8D"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.A"}, {"timestamp", "1749416394"}, {"type", "text"},
         {"text", {{"body", "Vi o anúncio"}}},
         {"referral", {{"source_url", "https://fb.me/3cr4Wqqkv"}, {"source_id", "120208422788420123"},
                       {"source_type", "ad"}, {"headline", "Sementes certificadas"}, {"body", "Fale conosco"},
                       {"media_type", "image"}, {"image_url", "https://example.com/ad.jpg"}, {"ctwa_clid", "ARAkLkA8rmlFeiCktEJQ"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.LOC"}, {"timestamp", "1749416395"}, {"type", "location"},
         {"location", {{"latitude", -23.55}, {"longitude", -46.63}, {"name", "Fazenda Boa Vista"}, {"address", "Rod. SP-330"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.BTN"}, {"timestamp", "1749416396"}, {"type", "button"},
         {"button", {{"payload", "QUERO"}, {"text", "Quero saber mais"}}}},
        {{"from", "5511987654321"}, {"id", "wamid.S"}, {"timestamp", "1749416397"}, {"type", "sticker"},
         {"sticker", {{"mime_type", "image/webp"}, {"sha256", "H"}, {"id", "S1"}, {"animated", false}}}},
        {{"from", "5511987654321"}, {"id", "wamid.U"}, {"timestamp", "1749416398"}, {"type", "unsupported"},
         {"errors", {{{"code", 131051}, {"title", "Message type unknown"}}}}},
        {{"from", "5511987654321"}, {"id", "wamid.NEW"}, {"timestamp", "1749416399"}, {"type", "hologram"},
         {"hologram", {{"shape", "cube"}}}}}}};
  Translated t = translate(value);
  ASSERT_EQ(t.messages.size(), 11u);
  EXPECT_TRUE(t.skipped.empty());
  const Json& text = t.messages[0];
  EXPECT_EQ(text["external_id"], "wamid.T");
  EXPECT_EQ(text["type"], "whatsapp");
  EXPECT_EQ(text["from"], (Json{{"phone", "5511987654321"}, {"name", "Ana Lima"}}));
  EXPECT_EQ(text["text"], "Bom dia");
  EXPECT_EQ(text["occurred_at"], "2025-06-08T20:59:43Z");
  EXPECT_EQ(text["content"]["kind"], "text");
  const Json& image = t.messages[1];
  EXPECT_EQ(image["text"], "Foto da nota fiscal");  // the caption is what a person reads
  EXPECT_EQ(image["content"]["image"]["id"], "1003383421387256");  // media id kept for a later download
  EXPECT_EQ(image["content"]["image"]["mime_type"], "image/jpeg");
  EXPECT_EQ(t.messages[2]["text"], "Sim, pode ligar");
  EXPECT_EQ(t.messages[2]["content"]["context"]["id"], "wamid.OUT1");  // the message it answers
  EXPECT_EQ(t.messages[3]["text"], "Plano Safra");
  EXPECT_EQ(t.messages[4]["content"]["reaction"]["message_id"], "wamid.OUT1");
  EXPECT_EQ(t.messages[5]["content"]["referral"]["source_id"], "120208422788420123");  // the ad it came from
  EXPECT_EQ(t.messages[5]["content"]["referral"]["ctwa_clid"], "ARAkLkA8rmlFeiCktEJQ");
  EXPECT_EQ(t.messages[6]["text"], "Fazenda Boa Vista, Rod. SP-330");
  EXPECT_EQ(t.messages[7]["text"], "Quero saber mais");
  EXPECT_FALSE(t.messages[8].contains("text"));  // a sticker has no words, and is still kept
  EXPECT_EQ(t.messages[9]["content"]["errors"][0]["code"], 131051);
  EXPECT_EQ(t.messages[10]["content"]["kind"], "hologram");  // a type Meta adds later: kept as such
  EXPECT_EQ(t.messages[10]["content"]["hologram"]["shape"], "cube");
}

TEST(WhatsAppWebhook, StatusesIncludingFailuresWithTheirErrors) {
  Json value = {{"statuses",
                 {{{"id", "wamid.OUT1"}, {"status", "read"}, {"timestamp", "1749416400"}, {"recipient_id", "5511987654321"}},
                  {{"id", "wamid.OUT1"}, {"status", "delivered"}, {"timestamp", "1749416399"}, {"recipient_id", "5511987654321"},
                   {"conversation", {{"id", "CONVERSATION_ID"}, {"origin", {{"type", "service"}}}}},
                   {"pricing", {{"billable", true}, {"pricing_model", "CBP"}, {"category", "service"}}}},
                  {{"id", "wamid.OUT2"}, {"status", "failed"}, {"timestamp", "1749416401"}, {"recipient_id", "5511987654321"},
                   {"errors", {{{"code", 131047}, {"title", "Re-engagement message"}, {"message", "Re-engagement message"},
                                {"error_data", {{"details", "Message failed to send because more than 24 hours have "
                                                            "passed since the customer last replied to this number."}}},
                                {"href", "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}}}},
                  {{"id", "wamid.OUT3"}, {"status", "deleted"}}}}};
  Translated t = translate(value);
  ASSERT_EQ(t.statuses.size(), 3u);
  EXPECT_EQ(t.statuses[0], (Json{{"external_id", "wamid.OUT1"}, {"status", "read"}}));
  EXPECT_EQ(t.statuses[1]["status"], "delivered");
  EXPECT_EQ(t.statuses[2]["status"], "failed");
  EXPECT_EQ(t.statuses[2]["error"],
            "131047 Re-engagement message: Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.");
  ASSERT_EQ(t.skipped.size(), 1u);  // a status the kernel has no use for
}

TEST(WhatsAppWebhook, ABatchIsSplitByNumberAndUnknownShapesAreSkipped) {
  Json payload = notification({{"messages", {text_message("wamid.1", "5511987654321", "a")}}});
  Json other = notification({{"messages", {text_message("wamid.2", "5521977776666", "b")}}}, "999");
  payload["entry"].push_back(other["entry"][0]);
  payload["entry"].push_back({{"id", "x"}, {"changes", {{{"field", "account_update"}, {"value", {{"event", "x"}}}}}}});
  payload["entry"].push_back({{"id", "y"}, {"changes", {{{"field", "messages"}, {"value", {{"messages", Json::array()}}}}}}});
  payload["entry"].push_back({{"id", "z"}});
  payload["entry"].push_back(42);
  Batch b = split(payload);
  ASSERT_EQ(b.values_by_number.size(), 2u);
  EXPECT_EQ(b.values_by_number[number].size(), 1u);
  EXPECT_EQ(b.values_by_number["999"].size(), 1u);
  EXPECT_EQ(b.skipped.size(), 4u);
  EXPECT_THROW(split(Json{{"object", "page"}, {"entry", Json::array()}}), std::invalid_argument);
  EXPECT_THROW(split(Json::array()), std::invalid_argument);
  EXPECT_EQ(rfc3339_of("nonsense"), "");
  EXPECT_EQ(rfc3339_of(Json(1749416383)), "2025-06-08T20:59:43Z");
}

TEST(WhatsAppGraph, TextWithReplyContextAndTemplatesWithCurrencyAndDateTime) {
  Json account = {{"id", "chn_1"}, {"external_id", number},
                  {"config", {{"base_url", "http://127.0.0.1:9/graph/"}, {"api_version", "v20.0"}}},
                  {"secrets", {{"access_token", "EAAG-token"}}}};
  Json r = graph_request({{"message_id", "msg_1"}, {"channel_account", account}, {"to", "+55 11 98765-4321"},
                          {"content", {{"interaction_id", "int_1"}, {"text", "Olá, Ana!"}, {"reply_to", "wamid.IN1"}}}});
  EXPECT_EQ(r["method"], "POST");
  EXPECT_EQ(r["url"], std::string("http://127.0.0.1:9/graph/v20.0/") + number + "/messages");
  EXPECT_EQ(r["headers"]["Authorization"], "Bearer EAAG-token");
  Json body = Json::parse(r["body"].get<std::string>());
  EXPECT_EQ(body, (Json{{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", "5511987654321"},
                        {"type", "text"}, {"text", {{"preview_url", false}, {"body", "Olá, Ana!"}}},
                        {"context", {{"message_id", "wamid.IN1"}}}}));

  Json components = Json::parse(R"([
    {"type": "header", "parameters": [{"type": "text", "text": "Safra 2026"}]},
    {"type": "body", "parameters": [
      {"type": "currency", "currency": {"fallback_value": "R$ 1.234,56", "code": "BRL", "amount_1000": 1234560}},
      {"type": "date_time", "date_time": {"fallback_value": "15 de março de 2026"}}]}])");
  account.erase("config");  // Meta's own address and version by default
  r = graph_request({{"channel_account", account}, {"to", "+5511987654321"},
                     {"content", {{"template", {{"name", "proposta_enviada"}, {"language", "pt_BR"},
                                                {"components", components}}}}}});
  EXPECT_EQ(r["url"], std::string("https://graph.facebook.com/v21.0/") + number + "/messages");
  body = Json::parse(r["body"].get<std::string>());
  EXPECT_EQ(body["type"], "template");
  EXPECT_EQ(body["template"]["name"], "proposta_enviada");
  EXPECT_EQ(body["template"]["language"], (Json{{"code", "pt_BR"}}));
  EXPECT_EQ(body["template"]["components"], components);

  account["secrets"] = Json::object();
  EXPECT_THROW(graph_request({{"channel_account", account}, {"to", "+5511987654321"}, {"content", "x"}}),
               std::invalid_argument);
}

// A proposal's PDF goes as a document message Meta fetches from its public link, the
// text its caption (issue #32).
TEST(WhatsAppGraph, ADocumentGoesByLinkWithTheTextAsItsCaption) {
  Json account = {{"id", "chn_1"}, {"external_id", number}, {"secrets", {{"access_token", "EAAG-token"}}}};
  Json r = graph_request({{"channel_account", account}, {"to", "+5511987654321"},
                          {"content", {{"text", "Segue a proposta (versão 2)."},
                                       {"document", {{"url", "https://crm.example.com/v1/public/proposals/t/pdf"},
                                                     {"filename", "proposta-v2.pdf"}}}}}});
  Json body = Json::parse(r["body"].get<std::string>());
  EXPECT_EQ(body["type"], "document");
  EXPECT_EQ(body["document"], (Json{{"link", "https://crm.example.com/v1/public/proposals/t/pdf"},
                                    {"filename", "proposta-v2.pdf"},
                                    {"caption", "Segue a proposta (versão 2)."}}));
  EXPECT_FALSE(body.contains("text"));
}

TEST(WhatsAppGraph, ErrorsMapToRetryOrAClearFailure) {
  auto error = [](long long code, const std::string& message) {
    return Json{{"error", {{"message", message}, {"type", "OAuthException"}, {"code", code},
                           {"error_data", {{"messaging_product", "whatsapp"}, {"details", message}}},
                           {"fbtrace_id", "Az8or2yhqkZfEZ-_4Qn_Bam"}}}}.dump();
  };
  SendOutcome ok = interpret(200, R"({"messaging_product":"whatsapp","contacts":[{"input":"+5511987654321",
      "wa_id":"5511987654321"}],"messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]})");
  EXPECT_EQ(ok.kind, SendOutcome::Kind::sent);
  EXPECT_EQ(ok.external_id, "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");

  SendOutcome window = interpret(400, error(131047, "Re-engagement message"));
  EXPECT_EQ(window.kind, SendOutcome::Kind::failed);
  EXPECT_NE(window.error.find("131047"), std::string::npos);
  EXPECT_NE(window.error.find("template"), std::string::npos) << window.error;
  EXPECT_EQ(interpret(400, error(131026, "Message Undeliverable")).kind, SendOutcome::Kind::failed);
  EXPECT_NE(interpret(400, error(131026, "Message Undeliverable")).error.find("undeliverable"), std::string::npos);
  EXPECT_EQ(interpret(400, error(130429, "Rate limit hit")).kind, SendOutcome::Kind::retry);
  EXPECT_EQ(interpret(429, "").kind, SendOutcome::Kind::retry);
  EXPECT_EQ(interpret(503, "<html>unavailable</html>").kind, SendOutcome::Kind::retry);
  EXPECT_EQ(interpret(500, error(131000, "Something went wrong")).kind, SendOutcome::Kind::retry);
  SendOutcome token = interpret(401, error(190, "Error validating access token: Session has expired"));
  EXPECT_EQ(token.kind, SendOutcome::Kind::failed);
  EXPECT_TRUE(token.token_problem);
  EXPECT_NE(token.error.find("access_token"), std::string::npos) << token.error;
  EXPECT_NE(interpret(400, error(132000, "Number of parameters does not match")).error.find("parameters"),
            std::string::npos);
  EXPECT_NE(interpret(404, error(132001, "Template name does not exist in the translation")).error.find("not approved"),
            std::string::npos);
  EXPECT_EQ(interpret(400, error(100, "Invalid parameter")).kind, SendOutcome::Kind::failed);  // 4xx: never retried
}

TEST(WhatsAppOptOut, AWholeMessageOfOneKeywordInAnyCaseOptsOut) {
  const std::string keywords = "sair,stop,parar promoções";
  for (const char* said : {"SAIR", "sair", " Sair! ", "Stop.", "PARAR PROMOÇÕES", "Parar Promoções"})
    EXPECT_TRUE(is_opt_out(said, keywords)) << said;
  for (const char* said : {"", "!!", "quero sair do grupo", "sair e voltar", "parar", "stops", "promoções"})
    EXPECT_FALSE(is_opt_out(said, keywords)) << said;
  EXPECT_FALSE(is_opt_out("sair", ""));  // no keywords configured: nothing opts out
}

// The plugin through the fake host: what it registers, the challenge, the signature
// gate, the queue before the 200, and the job's calls into the kernel.
class WhatsAppPlugin : public testing::Test {
 protected:
  void SetUp() override {
    host.services["channels.resolve"] = [](const Json& r) {
      if (r["external_id"] != number) throw sdk::Error(NUCLEO_NOT_FOUND, "no active channel account");
      return Json{{"id", "chn_1"}, {"tenant_id", "ten_1"}, {"external_id", number}, {"config", Json::object()},
                  {"secrets", {{"app_secret", app_secret}, {"verify_token", "meu-token"}, {"access_token", "EAAG"}}},
                  {"problem", nullptr}};
    };
    host.load(&nucleo_plugin_entry, Json::object());
  }
  sdk::Response post(const std::string& body, const std::string& signature) {
    Json headers = Json::object();
    if (!signature.empty()) headers["x-hub-signature-256"] = signature;
    return host.request_signed("POST", "/webhook", body, headers);
  }
  FakeHost host;
};

TEST_F(WhatsAppPlugin, RegistersAWhatsAppChannelWithA24HourWindow) {
  EXPECT_EQ(host.channel_spec["kinds"], Json::array({"whatsapp"}));
  EXPECT_EQ(host.channel_spec["reply_window_hours"], 24);
  EXPECT_EQ(host.job_spec("inbound")["scope"], "tenant");
}

TEST_F(WhatsAppPlugin, TheChallengeIsAnsweredOnlyForTheVerifyToken) {
  Json query = {{"hub.mode", "subscribe"}, {"hub.verify_token", "meu-token"}, {"hub.challenge", "1158201444"}};
  auto ok = host.request_signed("GET", std::string("/webhook/") + number, "", Json::object(), query);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.bytes.value_or(""), "1158201444");
  query["hub.verify_token"] = "outro";
  EXPECT_EQ(host.request_signed("GET", std::string("/webhook/") + number, "", Json::object(), query).status, 403);
  query["hub.verify_token"] = "meu-token";
  EXPECT_EQ(host.request_signed("GET", "/webhook/000", "", Json::object(), query).status, 403);  // unknown number
  EXPECT_EQ(host.request_signed("GET", "/webhook", "", Json::object(), query).status, 403);  // no deployment token set
  query["hub.mode"] = "unsubscribe";
  EXPECT_EQ(host.request_signed("GET", std::string("/webhook/") + number, "", Json::object(), query).status, 403);
}

TEST_F(WhatsAppPlugin, ANotificationIsQueuedOnlyWithTheRightSignature) {
  std::string body = notification({{"contacts", contacts("5511987654321", "Ana")},
                                   {"messages", {text_message("wamid.1", "5511987654321", "Oi")}}})
                         .dump();
  EXPECT_EQ(post(body, "").status, 401);
  EXPECT_EQ(post(body, signed_with("wrong", body)).status, 401);
  EXPECT_EQ(post("{not json", signed_with(app_secret, "{not json")).status, 400);
  EXPECT_EQ(post("{}", signed_with(app_secret, "{}")).status, 400);
  std::string stranger = notification({{"messages", {text_message("wamid.9", "1", "x")}}}, "000").dump();
  auto unknown = post(stranger, signed_with(app_secret, stranger));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body["detail"].get<std::string>().find("000"), std::string::npos);
  EXPECT_TRUE(host.enqueued.empty());  // nothing queued from any of those

  auto accepted = post(body, signed_with(app_secret, body));
  ASSERT_EQ(accepted.status, 200);
  ASSERT_EQ(host.enqueued.size(), 1u);
  EXPECT_EQ(host.enqueued[0].name, "inbound");
  EXPECT_EQ(host.enqueued[0].payload["channel_account_id"], "chn_1");

  // The job hands each message and status to the kernel; a refused message does not stop the rest.
  host.services["conversations.receive"] = [](const Json& r) {
    if (r["message"]["external_id"] == "wamid.bad") throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "from/phone is not a phone number");
    return Json{{"duplicate", false}};
  };
  host.services["conversations.status"] = [](const Json&) { return Json::object(); };
  Json value = {{"messages", {text_message("wamid.bad", "12", "?"), text_message("wamid.2", "5511987654321", "Oi")}},
                {"statuses", {{{"id", "wamid.OUT1"}, {"status", "read"}}}}};
  host.run_job("inbound", {{"channel_account_id", "chn_1"}, {"value", value}});
  std::vector<std::string> calls;
  for (const auto& c : host.service_calls) calls.push_back(c.service);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "conversations.receive"), 2);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "conversations.status"), 1);
  EXPECT_EQ(host.service_calls.back().request["status"], (Json{{"external_id", "wamid.OUT1"}, {"status", "read"}}));

  // "SAIR" revokes the sender's marketing purpose, once per message (the idempotency key).
  host.services["conversations.receive"] = [](const Json&) {
    return Json{{"duplicate", false}, {"interaction", {{"id", "int_9"}, {"contact_id", "con_9"}}}};
  };
  host.services["consent.record"] = [](const Json& r) { return Json{{"entry", {{"id", "cns_1"}}}, {"contact", r}}; };
  host.services["conversations.status"] = [](const Json&) { return Json::object(); };
  host.run_job("inbound", {{"channel_account_id", "chn_1"},
                           {"value", {{"messages", {text_message("wamid.STOP", "5511987654321", "Sair")}}}}});
  ASSERT_EQ(host.service_calls.back().service, "consent.record");
  EXPECT_EQ(host.service_calls.back().request,
            (Json{{"contact_id", "con_9"}, {"purpose", "marketing_whatsapp"}, {"action", "revoke"},
                  {"source", {{"type", "channel_message"}, {"reference", "wamid.STOP"}}},
                  {"idempotency_key", "opt-out:wamid.STOP"}}));

  // A status for a message not recorded yet retries the job (the send may not be settled).
  host.services["conversations.status"] = [](const Json&) -> Json { throw sdk::Error(NUCLEO_NOT_FOUND, "no message"); };
  EXPECT_THROW(host.run_job("inbound", {{"channel_account_id", "chn_1"}, {"value", value}}), sdk::Error);
}

TEST_F(WhatsAppPlugin, SendingGoesThroughTheHostsHttpAndReportsAnExpiredToken) {
  Json answer = {{"status", 200}, {"body", R"({"messages":[{"id":"wamid.OUT1"}]})"}};
  host.http = [&](const Json&) { return answer; };
  Json message = {{"message_id", "msg_1"},
                  {"channel_account", {{"id", "chn_1"}, {"external_id", number}, {"config", Json::object()},
                                       {"secrets", {{"access_token", "EAAG"}}}, {"problem", nullptr}}},
                  {"to", "+5511987654321"},
                  {"content", {{"interaction_id", "int_1"}, {"text", "Olá"}}}};
  EXPECT_EQ(host.send(message), (Json{{"external_id", "wamid.OUT1"}, {"delivery_status", "accepted"}}));
  ASSERT_EQ(host.http_requests.size(), 1u);
  EXPECT_EQ(host.http_requests[0]["url"], std::string("https://graph.facebook.com/v21.0/") + number + "/messages");

  answer = {{"status", 401}, {"body", R"({"error":{"message":"Session has expired","code":190}})"}};
  host.services["channels.report"] = [](const Json& r) { return Json{{"id", r["channel_account_id"]}}; };
  try {
    host.send(message);
    FAIL() << "sent with an expired token";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_INVALID_ARGUMENT);  // failed for good, not retried
  }
  EXPECT_EQ(host.service_calls.back().service, "channels.report");
  EXPECT_EQ(host.service_calls.back().request["problem"]["code"], "access_token_invalid");

  answer = {{"status", 503}, {"body", "busy"}};
  try {
    host.send(message);
    FAIL() << "a 503 is not a success";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_UNAVAILABLE);  // retried with back-off by the kernel
  }
}

}  // namespace
}  // namespace nucleo::whatsapp
