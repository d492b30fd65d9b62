// Issue #9, channel accounts and signed routes end to end: an inbound webhook reaches a
// plugin's signed route with no API key; the plugin resolves the channel account by its
// external id — which puts the request in that account's tenant — and checks the
// request against the account's secret, which the API never shows and the database
// holds only encrypted.
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* plugin_id = "org.nucleo.fixtures.inbound";

class Channels : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder =
        plugin_folder(plugin_dir.path(), "inbound", "inbound",
                      {{"id", "org.nucleo.fixtures.inbound"}, {"kind", "channel"}, {"config_schema", Json::object()}});
    std::ofstream(plugin_dir.path() + "/nucleo.properties") << "plugins.inbound.file = " << folder << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }
  Reply inbound(const std::string& phone_number_id, const std::string& token, const std::string& text = "Olá") {
    Json message = {{"phone_number_id", phone_number_id}, {"from", "+55 11 98888-7777"}, {"text", text}};
    return call_raw("POST", std::string("/v1/x/") + plugin_id + "/inbound", "", message.dump(),
                    {{"X-Channel-Token", token}, {"Content-Type", "application/json"}});
  }
  Json account(const std::string& key, const std::string& external_id, const std::string& token) {
    auto r = call("POST", "/v1/channels/accounts", key,
                  {{"plugin_id", plugin_id},
                   {"external_id", external_id},
                   {"name", "Sales line"},
                   {"config", {{"channel", "whatsapp"}}},
                   {"secrets", {{"verify_token", token}}}});
    EXPECT_EQ(r.status, 201) << r.raw.body;
    EXPECT_EQ(r.raw.body.find(token), std::string::npos);  // never returned
    return r.body;
  }
  TempDir plugin_dir;
};

TEST_P(Channels, AnInboundWebhookFindsItsTenantThroughTheChannelAccount) {
  Json ours = account(admin, "5511999990000", "s3cret-token");
  EXPECT_EQ(ours["secret_names"], Json({"verify_token"}));
  EXPECT_FALSE(ours.contains("secrets"));
  EXPECT_TRUE(h->places_holding("s3cret-token").empty());  // sealed at rest, not in the audit log either

  auto delivered = inbound("5511999990000", "s3cret-token");
  ASSERT_EQ(delivered.status, 200) << delivered.raw.body;
  EXPECT_EQ(delivered.body["tenant_id"], h->tenant);
  std::string interaction = delivered.body["interaction"]["id"];
  auto logged = call("GET", "/v1/interactions/" + interaction, admin);
  ASSERT_EQ(logged.status, 200);
  EXPECT_EQ(logged.body["body"], "Olá");
  EXPECT_EQ(logged.body["direction"], "inbound");

  // Another tenant's account on the same plugin routes to that tenant.
  std::string other = h->create_tenant("Other");
  std::string other_admin = user_key(other, "admin");
  account(other_admin, "5521000000000", "b-token");
  auto theirs = inbound("5521000000000", "b-token");
  ASSERT_EQ(theirs.status, 200) << theirs.raw.body;
  EXPECT_EQ(theirs.body["tenant_id"], other);
  EXPECT_EQ(call("GET", "/v1/interactions/" + theirs.body["interaction"]["id"].get<std::string>(), admin).status, 404);

  // Refusals write nothing.
  int before = h->count("SELECT count(*) FROM interactions");
  EXPECT_EQ(inbound("5511999990000", "b-token").status, 403);  // another account's token
  EXPECT_EQ(inbound("5500000000000", "s3cret-token").status, 404);  // no such account
  EXPECT_EQ(h->count("SELECT count(*) FROM interactions"), before);

  // A rotated secret replaces the old one; a disabled account resolves nothing.
  std::string id = ours["id"];
  auto rotated = call("PATCH", "/v1/channels/accounts/" + id, admin, {{"secrets", {{"verify_token", "rotated"}}}});
  ASSERT_EQ(rotated.status, 200) << rotated.raw.body;
  EXPECT_EQ(rotated.body["secret_names"], Json({"verify_token"}));
  EXPECT_EQ(inbound("5511999990000", "s3cret-token").status, 403);
  EXPECT_EQ(inbound("5511999990000", "rotated").status, 200);
  ASSERT_EQ(call("PATCH", "/v1/channels/accounts/" + id, admin, {{"status", "disabled"}}).status, 200);
  EXPECT_EQ(inbound("5511999990000", "rotated").status, 404);

  // A public route has no tenant: kernel services refuse until an account is resolved.
  auto health = call("GET", std::string("/v1/x/") + plugin_id + "/health", "");
  ASSERT_EQ(health.status, 200) << health.raw.body;
  EXPECT_NE(health.body["without_tenant"].get<std::string>().find("no tenant"), std::string::npos);
}

TEST_P(Channels, AccountsAreCheckedAndAdminOnly) {
  auto refused = [&](const Json& body, const std::string& field) {
    auto r = call("POST", "/v1/channels/accounts", admin, body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.raw.body;
    bool named = false;
    for (const auto& e : r.body["errors"]) named = named || e["field"] == field;
    EXPECT_TRUE(named) << body << " → " << r.raw.body;
  };
  refused({{"plugin_id", "com.acme.not-loaded"}, {"external_id", "1"}}, "plugin_id");
  refused({{"plugin_id", plugin_id}}, "external_id");
  refused({{"plugin_id", plugin_id}, {"external_id", "1"}, {"secrets", {{"token", 42}}}}, "secrets");
  refused({{"plugin_id", plugin_id}, {"external_id", "1"}, {"config", "x"}}, "config");
  refused({{"plugin_id", plugin_id}, {"external_id", "1"}, {"tenant_id", "ten_x"}}, "tenant_id");
  EXPECT_EQ(call("POST", "/v1/channels/accounts", manager, {{"plugin_id", plugin_id}, {"external_id", "1"}}).status,
            403);
  EXPECT_TRUE(call("GET", "/v1/channels/accounts", admin).body["data"].empty());

  Json made = account(admin, "1", "t0k3n-one");
  auto twice = call("POST", "/v1/channels/accounts", admin, {{"plugin_id", plugin_id}, {"external_id", "1"}});
  EXPECT_EQ(twice.status, 409) << twice.raw.body;
  auto moved = call("PATCH", "/v1/channels/accounts/" + made["id"].get<std::string>(), admin, {{"external_id", "2"}});
  EXPECT_EQ(moved.status, 422);
  EXPECT_EQ(call("DELETE", "/v1/channels/accounts/" + made["id"].get<std::string>(), admin).status, 200);
  EXPECT_EQ(inbound("1", "t0k3n-one").status, 404);
}

// Outbound: a message sent through a channel account is queued, then handed to the
// plugin's send on a job worker with the account's config and secrets.
class ChannelSend : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder = plugin_folder(plugin_dir.path(), "sender", "sender",
                                       {{"id", "org.nucleo.fixtures.sender"},
                                        {"kind", "channel"},
                                        {"config_schema", {{"log_file", {{"type", "string"}, {"required", true}}}}}});
    std::ofstream(plugin_dir.path() + "/nucleo.properties")
        << "plugins.sender.file = " << folder << "\nplugins.sender.config.log_file = " << log_file()
        << "\njobs.retry_first_ms = 50\njobs.retry_max_ms = 100\njobs.max_attempts = 3\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }
  std::string log_file() { return plugin_dir.path() + "/sent.log"; }
  Json message_when(const std::string& id, const std::function<bool(const Json&)>& done) {
    Json m;
    for (int i = 0; i < 200; ++i) {
      m = call("GET", "/v1/channels/messages/" + id, admin).body;
      if (done(m)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return m;
  }
  TempDir plugin_dir;
};

TEST_P(ChannelSend, AMessageIsSentByThePluginOnAJobWorker) {
  auto account = call("POST", "/v1/channels/accounts", admin,
                      {{"plugin_id", "org.nucleo.fixtures.sender"},
                       {"external_id", "sender-1"},
                       {"secrets", {{"api_token", "tok-123"}}}});
  ASSERT_EQ(account.status, 201) << account.raw.body;
  std::string path = "/v1/channels/accounts/" + account.body["id"].get<std::string>() + "/messages";

  auto queued = call("POST", path, manager, {{"to", "+5511988887777"}, {"content", {{"text", "Proposta"}}}});
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  EXPECT_EQ(queued.body["status"], "queued");
  std::string id = queued.body["id"];
  Json sent = message_when(id, [](const Json& m) { return m["status"] != "queued"; });
  EXPECT_EQ(sent["status"], "sent") << sent;
  EXPECT_EQ(sent["external_id"], "sms-" + id);
  EXPECT_EQ(sent["delivery_status"], "accepted");
  std::ifstream log(log_file());
  std::string message_id, to, text, external, token;
  log >> message_id >> to >> text >> external >> token;
  EXPECT_EQ(message_id, id);
  EXPECT_EQ(to, "+5511988887777");
  EXPECT_EQ(text, "Proposta");
  EXPECT_EQ(external, "sender-1");
  EXPECT_EQ(token, "tok-123");  // the account's secret reaches its plugin, and only there

  // Unreachable: retried with back-off, then failed; refused: failed at once.
  std::string down = call("POST", path, admin, {{"to", "+5500000000"}, {"content", {{"text", "x"}}}}).body["id"];
  Json failed = message_when(down, [](const Json& m) { return m["status"] == "failed"; });
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["attempts"], 3);
  EXPECT_NE(failed["error"].get<std::string>().find("carrier unreachable"), std::string::npos);
  std::string invalid = call("POST", path, admin, {{"to", "invalid"}, {"content", "x"}}).body["id"];
  Json refused = message_when(invalid, [](const Json& m) { return m["status"] == "failed"; });
  EXPECT_EQ(refused["attempts"], 1);

  // Bad input and roles.
  EXPECT_EQ(call("POST", path, admin, {{"to", ""}, {"content", "x"}}).status, 422);
  EXPECT_EQ(call("POST", path, admin, {{"to", "+55"}, {"content", 3}}).status, 422);
  EXPECT_EQ(call("POST", path, auditor, {{"to", "+55"}, {"content", "x"}}).status, 403);
  EXPECT_EQ(call("POST", "/v1/channels/accounts/chn_01m80gv6y4eqcsmge90bwbtca7/messages", admin,
                 {{"to", "+55"}, {"content", "x"}})
                .status,
            404);
}

// Issue #22: a message to a contact is an outbound interaction of the channel's kind,
// queued at once (202) and sent by the plugin; its delivery status follows.
TEST_P(ChannelSend, AMessageToAContactIsAnInteractionThatFollowsTheChannel) {
  std::string account = call("POST", "/v1/channels/accounts", admin,
                             {{"plugin_id", "org.nucleo.fixtures.sender"}, {"external_id", "sender-2"}})
                            .body["id"];
  std::string contact = call("POST", "/v1/contacts", manager, {{"name", "Ana Lima"}, {"phone", "+5511988887777"}})
                            .body["id"];
  // Nobody writes first without a legal basis (issue #30): refused, naming the purpose.
  auto unfounded = call("POST", "/v1/contacts/" + contact + "/messages", manager,
                        {{"channel_account_id", account}, {"text", "Proposta"}});
  ASSERT_EQ(unfounded.status, 422) << unfounded.raw.body;
  EXPECT_EQ(unfounded.body["errors"][0]["field"], "purpose") << unfounded.raw.body;
  EXPECT_EQ(unfounded.body["errors"][0]["code"], "no_legal_basis") << unfounded.raw.body;
  allow_messages(contact);
  auto queued = call("POST", "/v1/contacts/" + contact + "/messages", manager,
                     {{"channel_account_id", account}, {"purpose", "sales"}, {"text", "Proposta"}});
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  EXPECT_EQ(queued.body["type"], "sms");
  EXPECT_EQ(queued.body["direction"], "outbound");
  EXPECT_EQ(queued.body["delivery_status"], "queued");
  std::string id = queued.body["id"];
  Json interaction;
  for (int i = 0; i < 200; ++i) {
    interaction = call("GET", "/v1/interactions/" + id, manager).body;
    if (interaction["delivery_status"] != "queued") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(interaction["delivery_status"], "sent") << interaction;
  EXPECT_EQ(interaction["external_id"].get<std::string>().rfind("sms-msg_", 0), 0u) << interaction;

  // The unified inbox has the conversation; its thread has the message; marks are audited.
  auto inbox = call("GET", "/v1/conversations?channel=sms&contact_id=" + contact, manager);
  ASSERT_EQ(inbox.status, 200) << inbox.raw.body;
  ASSERT_EQ(inbox.body["data"].size(), 1u) << inbox.raw.body;
  const Json chat = inbox.body["data"][0];
  EXPECT_EQ(chat["last_message"]["id"], id);
  EXPECT_EQ(chat["last_message"]["preview"], "Proposta");
  EXPECT_EQ(chat["unanswered"], false);
  EXPECT_TRUE(chat["reply_window"].is_null());  // this channel has none
  std::string chat_path = "/v1/conversations/" + chat["id"].get<std::string>();
  auto thread = call("GET", chat_path + "/messages", auditor);
  ASSERT_EQ(thread.status, 200) << thread.raw.body;
  ASSERT_EQ(thread.body["data"].size(), 1u);
  EXPECT_EQ(thread.body["data"][0]["id"], id);
  EXPECT_EQ(call("POST", chat_path + "/read", auditor).status, 403);
  auto read = call("POST", chat_path + "/read", manager);
  ASSERT_EQ(read.status, 200) << read.raw.body;
  EXPECT_FALSE(read.body["read_at"].is_null());
  auto history = call("GET", "/v1/audit/events?entity_type=conversation", admin);
  ASSERT_EQ(history.status, 200) << history.raw.body;
  EXPECT_EQ(call("GET", "/v1/conversations?unanswered=maybe", manager).status, 400);
  EXPECT_EQ(call("GET", "/v1/conversations?cursor=forged", manager).status, 400);
  EXPECT_EQ(call("GET", "/v1/conversations/cnv_01m80gv6y4eqcsmge90bwbtca7", manager).status, 404);

  // The account's config is checked against the schema the plugin's channel declares.
  auto long_name = call("POST", "/v1/channels/accounts", admin,
                        {{"plugin_id", "org.nucleo.fixtures.sender"}, {"external_id", "sender-3"},
                         {"config", {{"sender_name", "Nucleo Vendas Ltda"}}}});
  ASSERT_EQ(long_name.status, 422) << long_name.raw.body;
  EXPECT_EQ(long_name.body["errors"][0]["field"], "config/sender_name");
  EXPECT_EQ(call("PATCH", "/v1/channels/accounts/" + account, admin, {{"config", {{"colour", "red"}}}}).status, 422);
  EXPECT_EQ(call("PATCH", "/v1/channels/accounts/" + account, admin, {{"config", {{"sender_name", "Nucleo"}}}}).status,
            200);

  auto both = call("POST", "/v1/contacts/" + contact + "/messages", manager,
                   {{"channel_account_id", account}, {"text", "x"}, {"template", {{"name", "t"}, {"language", "pt_BR"}}}});
  EXPECT_EQ(both.status, 422) << both.raw.body;
  EXPECT_EQ(call("POST", "/v1/contacts/" + contact + "/messages", auditor, {{"channel_account_id", account}, {"text", "x"}})
                .status,
            403);
  EXPECT_EQ(call("POST", "/v1/contacts/" + contact + "/messages", manager,
                 {{"channel_account_id", "chn_01m80gv6y4eqcsmge90bwbtca7"}, {"text", "x"}})
                .status,
            404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChannelSend, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

INSTANTIATE_TEST_SUITE_P(Backends, Channels, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
