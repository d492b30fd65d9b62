// Issue #9, outbound webhooks end to end: a tenant's admin subscribes a URL to events;
// the running server POSTs each matching event signed per Standard Webhooks — checked
// here by an HMAC-SHA256 written from RFC 2104 over Poco's SHA-256, independent of the
// kernel's OpenSSL code —, retries failed attempts with the same webhook-id, logs every
// attempt, and refuses private, loopback and link-local targets.
#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/SHA2Engine.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/http_recorder.hpp"

namespace nucleo::test {
namespace {

std::string sha256(const std::string& data) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data);
  const auto& digest = engine.digest();
  return std::string(digest.begin(), digest.end());
}

// RFC 2104: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), 64-byte blocks.
std::string hmac_sha256(std::string key, const std::string& message) {
  if (key.size() > 64) key = sha256(key);
  key.resize(64, '\0');
  std::string inner(64, '\0'), outer(64, '\0');
  for (std::size_t i = 0; i < 64; ++i) {
    inner[i] = static_cast<char>(key[i] ^ 0x36);
    outer[i] = static_cast<char>(key[i] ^ 0x5c);
  }
  return sha256(outer + sha256(inner + message));
}

std::string base64_decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
}

std::string base64_encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

// What a receiver does: recompute the signature from the secret and compare.
bool signed_with(const std::string& secret, const RecordedRequest& r) {
  std::string key = base64_decode(secret.substr(std::string("whsec_").size()));
  std::string content = r.headers.at("webhook-id") + "." + r.headers.at("webhook-timestamp") + "." + r.body;
  return r.headers.at("webhook-signature") == "v1," + base64_encode(hmac_sha256(key, content));
}

class Webhooks : public ApiFixture {
 protected:
  void SetUp() override {
    std::ofstream(config_dir.path() + "/nucleo.properties")
        << "outbound.allow = 127.0.0.1/32\n"
        << "events.dispatch_interval_ms = 20\n"
        << "jobs.retry_first_ms = 50\njobs.retry_max_ms = 200\njobs.max_attempts = 4\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", config_dir.path() + "/nucleo.properties"};
  }
  Reply create_webhook(const std::string& path, const Json& events) {
    return call("POST", "/v1/webhooks", admin, {{"url", receiver.url(path)}, {"events", events}});
  }
  static std::vector<RecordedRequest> to(const std::vector<RecordedRequest>& all, const std::string& path) {
    std::vector<RecordedRequest> out;
    for (const auto& r : all)
      if (r.path == path) out.push_back(r);
    return out;
  }

  TempDir config_dir;
  HttpRecorder receiver;
};

TEST_P(Webhooks, SignedDeliveriesAreRetriedLoggedAndFollowTheSecret) {
  auto created = create_webhook("/hook", {"contact.*"});
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"], secret = created.body["secret"];
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
  EXPECT_EQ(created.body["status"], "active");
  auto read = call("GET", "/v1/webhooks/" + id, admin);
  EXPECT_EQ(read.status, 200);
  EXPECT_FALSE(read.body.contains("secret"));  // shown once
  EXPECT_TRUE(h->places_holding(secret).empty());  // sealed at rest, in no audit event either

  receiver.answer_next({500, 503});
  std::string ana = call("POST", "/v1/contacts", admin, {{"name", "Ana"}}).body["id"];
  call("POST", "/v1/accounts", admin, {{"legal_name", "Acme"}});  // account.* is not subscribed
  auto seen = receiver.wait_for([](const auto& r) { return r.size() >= 3; });
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_TRUE(signed_with(secret, r)) << r.headers.at("webhook-signature");
    EXPECT_EQ(r.headers.at("webhook-id"), seen[0].headers.at("webhook-id"));  // the same message each attempt
  }
  Json event = Json::parse(seen[2].body);
  EXPECT_EQ(event["name"], "contact.created");
  EXPECT_EQ(event["entity"]["id"], ana);
  EXPECT_EQ(event["id"], seen[0].headers.at("webhook-id"));
  EXPECT_EQ(event["tenant_id"], h->tenant);

  // The receiver has the third attempt before the server logs it: wait for the log row.
  auto log = call("GET", "/v1/webhooks/" + id + "/deliveries", admin);
  for (int i = 0; i < 100 && log.status == 200 && log.body["data"].size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = call("GET", "/v1/webhooks/" + id + "/deliveries", admin);
  }
  ASSERT_EQ(log.status, 200) << log.raw.body;
  ASSERT_EQ(log.body["data"].size(), 3u) << log.raw.body;
  EXPECT_EQ(log.body["data"][0]["attempt"], 3);
  EXPECT_EQ(log.body["data"][0]["status_code"], 200);
  EXPECT_TRUE(log.body["data"][0]["error"].is_null());
  EXPECT_EQ(log.body["data"][1]["status_code"], 503);
  EXPECT_EQ(log.body["data"][2]["error"], "answered HTTP 500");
  EXPECT_EQ(log.body["data"][2]["event_id"], event["id"]);

  // A rotated secret signs from then on; the old one no longer verifies.
  auto rotated = call("POST", "/v1/webhooks/" + id + "/rotate-secret", admin);
  ASSERT_EQ(rotated.status, 200) << rotated.raw.body;
  std::string fresh = rotated.body["secret"];
  EXPECT_NE(fresh, secret);
  call("POST", "/v1/contacts", admin, {{"name", "Bia"}});
  seen = receiver.wait_for([](const auto& r) { return r.size() >= 4; });
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_TRUE(signed_with(fresh, seen[3]));
  EXPECT_FALSE(signed_with(secret, seen[3]));

  // Disabled: nothing more to it, while another webhook still gets the next event.
  auto disabled = call("PATCH", "/v1/webhooks/" + id, admin, {{"status", "disabled"}},
                       {{"If-Match", "\"" + std::to_string(rotated.body["version"].get<int>()) + "\""}});
  ASSERT_EQ(disabled.status, 200) << disabled.raw.body;
  ASSERT_EQ(create_webhook("/other", {"*"}).status, 201);
  std::string caio = call("POST", "/v1/contacts", admin, {{"name", "Caio"}}).body["id"];
  // "*" hears every change, the webhook's own creation included (one door: every
  // write is a domain event).
  auto names_to_other = [&](const auto& r) {
    std::vector<std::string> names;
    for (const auto& delivery : to(r, "/other")) names.push_back(Json::parse(delivery.body)["name"]);
    return names;
  };
  // In any order, and not together: two job workers deliver — wait for both.
  auto heard = [&](const std::vector<std::string>& names, const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  seen = receiver.wait_for([&](const auto& r) {
    auto names = names_to_other(r);
    return heard(names, "contact.created") && heard(names, "webhook.created");
  });
  auto names = names_to_other(seen);
  EXPECT_NE(std::find(names.begin(), names.end(), "webhook.created"), names.end());
  for (const auto& delivery : to(seen, "/other")) {
    Json event = Json::parse(delivery.body);
    if (event["name"] == "contact.created") {
      EXPECT_EQ(event["entity"]["id"], caio);
    }
  }
  EXPECT_EQ(to(seen, "/hook").size(), 4u);

  EXPECT_EQ(call("DELETE", "/v1/webhooks/" + id, admin).status, 200);
  EXPECT_EQ(call("GET", "/v1/webhooks/" + id, admin).status, 404);
  EXPECT_EQ(call("GET", "/v1/webhooks", admin).body["data"].size(), 1u);
}

TEST_P(Webhooks, RefusesBadInputAndPrivateTargetsNamingTheField) {
  auto refused = [&](const Json& body, const std::string& field, const std::string& words) {
    auto r = call("POST", "/v1/webhooks", admin, body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.raw.body;
    std::string messages;
    for (const auto& e : r.body["errors"])
      if (e["field"] == field) messages += e["message"].get<std::string>();
    EXPECT_NE(messages.find(words), std::string::npos) << body << " → " << r.raw.body;
  };
  Json events = {"deal.*"};
  refused({{"events", events}}, "url", "is required");
  refused({{"url", "ftp://example.com/x"}, {"events", events}}, "url", "must be http");
  refused({{"url", "http://10.0.0.1/hook"}, {"events", events}}, "url", "private");
  refused({{"url", "http://169.254.169.254/latest/meta-data/"}, {"events", events}}, "url", "link-local");
  refused({{"url", "http://[::1]:8080/"}, {"events", events}}, "url", "loopback");
  refused({{"url", "http://127.0.0.2/"}, {"events", events}}, "url", "loopback");  // only 127.0.0.1 is allowed
  refused({{"url", "http://user:pw@example.com/"}, {"events", events}}, "url", "credentials");
  refused({{"url", receiver.url("/x")}, {"events", {"deal*"}}}, "events", "patterns");
  refused({{"url", receiver.url("/x")}, {"events", Json::array()}}, "events", "patterns");
  refused({{"url", receiver.url("/x")}, {"events", events}, {"secret", "mine"}}, "secret", "not a field");
  EXPECT_EQ(call("POST", "/v1/webhooks", manager, {{"url", receiver.url("/x")}, {"events", events}}).status, 403);
  EXPECT_EQ(call("GET", "/v1/webhooks", manager).status, 403);
  EXPECT_TRUE(call("GET", "/v1/webhooks", admin).body["data"].empty());  // nothing half-written
  auto made = create_webhook("/x", events);
  ASSERT_EQ(made.status, 201);
  auto bad_patch = call("PATCH", "/v1/webhooks/" + made.body["id"].get<std::string>(), admin, {{"status", "paused"}});
  EXPECT_EQ(bad_patch.status, 422);
  auto stale = call("PATCH", "/v1/webhooks/" + made.body["id"].get<std::string>(), admin, {{"description", "x"}},
                    {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 412);
}

INSTANTIATE_TEST_SUITE_P(Backends, Webhooks, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
