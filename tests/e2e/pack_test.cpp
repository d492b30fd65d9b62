// Issue #20: plugin ABI 1.2 end to end, through the pack fixture (tests/plugin_abi/pack.cpp)
// loaded into a running server on both backends — caller identity in routes, validators
// and event handlers; the kernel's clock; raw bodies in and out; store writes with an
// expected version. The same plugin's unit tests run on the fake host alone
// (tests/unit/sdk/pack_test.cpp).
#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include "kernel/domain/time.hpp"
#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.fixtures.pack";

class Pack : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder = pack_plugin_folder(plugin_dir.path());
    std::ofstream(plugin_dir.path() + "/nucleo.properties") << "plugins.pack.file = " << folder << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }
  // A deal on an account the sales user `owner` owns (sales users see their own).
  std::string deal_body(long amount, const std::string& owner) {
    if (account_.empty()) {
      account_ = call("POST", "/v1/accounts", owner, {{"legal_name", "Fazenda Boa Vista"}}).body["id"];
      pipeline_ = call("POST", "/v1/pipelines", admin, {{"name", "Safra"}}).body["id"];
      call("POST", "/v1/stages", admin, {{"pipeline_id", pipeline_}, {"name", "Nova"}, {"position", 0}});
    }
    return Json{{"name", "Safra 2027"}, {"account_id", account_}, {"pipeline_id", pipeline_}, {"amount", amount}}.dump();
  }
  std::string sales_key() {
    if (sales_.empty()) sales_ = user_key(h->tenant, "sales");
    return sales_;
  }
  TempDir plugin_dir;
  std::string account_, pipeline_, sales_;
};

TEST_P(Pack, RoutesSeeWhoCallsAsThePermissionChecksDo) {
  std::string user, team = call("POST", "/v1/teams", admin, {{"name", "Sul"}}).body["id"];
  std::string sales = user_key(h->tenant, "sales", &user, Json::array({team}));
  auto me = call("GET", pack + "/whoami", sales);
  ASSERT_EQ(me.status, 200) << me.raw.body;
  EXPECT_EQ(me.body["caller"]["role"], "sales");
  EXPECT_EQ(me.body["caller"]["user_id"], user);
  EXPECT_EQ(me.body["caller"]["teams"], Json::array({team}));
  EXPECT_EQ(me.body["caller"]["tenant_id"], h->tenant);
  EXPECT_EQ(me.body["caller"]["actor_type"], "key");
  EXPECT_EQ(me.body["caller"]["scopes"], nullptr);
  EXPECT_EQ(me.body["request"], me.body["caller"]);

  std::string robot = integration_key(h->tenant, Json::array({"org.nucleo.fixtures.pack:read"}));
  auto integration = call("GET", pack + "/whoami", robot);
  ASSERT_EQ(integration.status, 200) << integration.raw.body;
  EXPECT_EQ(integration.body["caller"]["role"], "integration");
  EXPECT_EQ(integration.body["caller"]["scopes"], Json::array({"org.nucleo.fixtures.pack:read"}));
}

TEST_P(Pack, TheDigestIsScheduledOnEachTenantsOwnClock) {
  // The job queue creates a row per tenant at its first sync, its schedule naming the zone.
  std::string sql = "SELECT count(*) FROM jobs WHERE name = 'plugin:org.nucleo.fixtures.pack:digest'"
                    " AND schedule = 'cron 0 7 * * * in tenant UTC'";  // the fixture's tenant has no zone
  int rows = 0;
  for (int attempt = 0; attempt < 100 && rows == 0; ++attempt) {
    rows = h->count(sql);
    if (rows == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(rows, 1);  // the fixture's one tenant
}

TEST_P(Pack, TheClockIsTheKernels) {
  auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  auto clock = call("GET", pack + "/clock", admin);
  auto after = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_EQ(clock.status, 200) << clock.raw.body;
  EXPECT_GE(clock.body["now_micros"].get<std::int64_t>(), before);
  EXPECT_LE(clock.body["now_micros"].get<std::int64_t>(), after);
}

TEST_P(Pack, RawBodiesInAndOutAreDeclaredAndHeldToTheirDeclaration) {
  auto csv = call("GET", pack + "/report.csv", admin);
  ASSERT_EQ(csv.status, 200) << csv.raw.body;
  EXPECT_EQ(csv.raw.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.raw.body, "farm;hectares\r\nSanta Rita;120,5\r\n");

  std::string farms = "name;hectares\r\nBoa Vista;12,5\r\nSanta Rita;120\r\n";
  auto imported = call_raw("POST", pack + "/farms/import", admin, farms, {{"Content-Type", "text/csv"}});
  ASSERT_EQ(imported.status, 200) << imported.raw.body;
  EXPECT_EQ(imported.body["imported"], 2);
  EXPECT_EQ(imported.body["farms"][1]["hectares"], 120.0);

  auto as_json = call_raw("POST", pack + "/farms/import", admin, R"({"a":1})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(as_json.status, 415) << as_json.raw.body;
  EXPECT_NE(as_json.raw.body.find("text/csv"), std::string::npos) << as_json.raw.body;
  auto too_large = call_raw("POST", pack + "/farms/import", admin, farms + std::string(5000, 'x'),
                            {{"Content-Type", "text/csv"}});
  EXPECT_EQ(too_large.status, 413) << too_large.raw.body;
  auto garbled = call_raw("POST", pack + "/farms/import", admin, "name;hectares\nno separator\n",
                          {{"Content-Type", "text/csv"}});
  EXPECT_EQ(garbled.status, 422) << garbled.raw.body;
  EXPECT_EQ(call_raw("POST", pack + "/farms/import", auditor, farms, {{"Content-Type", "text/csv"}}).status, 200);

  // The OpenAPI document says what the server does.
  auto doc = call("GET", "/v1/openapi.json", admin).body;
  const Json& import_op = doc["paths"][pack + "/farms/import"]["post"];
  EXPECT_EQ(import_op["requestBody"]["content"]["text/csv"]["schema"]["format"], "binary") << import_op.dump();
  EXPECT_EQ(import_op["requestBody"]["content"]["text/csv"]["schema"]["maxLength"], 4096);
  EXPECT_TRUE(doc["paths"][pack + "/report.csv"]["get"]["responses"]["200"]["content"].contains("text/csv"));
}

TEST_P(Pack, AValidatorKnowsWhoWritesAndAnEventHandlerWhoCausedTheEvent) {
  std::string sales = user_key(h->tenant, "sales");
  auto refused = call_raw("POST", "/v1/deals", sales, deal_body(2000000, sales), {{"Content-Type", "application/json"}});
  ASSERT_EQ(refused.status, 422) << refused.raw.body;
  EXPECT_NE(refused.raw.body.find("(you are sales)"), std::string::npos) << refused.raw.body;
  EXPECT_EQ(call_raw("POST", "/v1/deals", sales, deal_body(500, sales), {{"Content-Type", "application/json"}}).status, 201);

  auto created = call_raw("POST", "/v1/deals", manager, deal_body(2000000, sales), {{"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string deal = created.body["id"];
  Reply trail;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the dispatcher has delivered deal.created
    trail = call("GET", pack + "/trail/" + deal, admin);
    if (trail.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(trail.status, 200) << trail.raw.body;
  EXPECT_EQ(trail.body["handler"]["actor_type"], "plugin");
  EXPECT_EQ(trail.body["handler"]["actor_id"], "org.nucleo.fixtures.pack");
  EXPECT_EQ(trail.body["handler"]["role"], "");  // the plugin's own work: no role restricts it
  EXPECT_EQ(trail.body["caused_by"]["type"], "key");
  EXPECT_TRUE(trail.body["seen_at"].is_number_integer());
  auto task = call("GET", "/v1/tasks/" + trail.body["task_id"].get<std::string>(), manager);
  ASSERT_EQ(task.status, 200) << task.raw.body;
  EXPECT_EQ(task.body["deal_id"], deal);
}

TEST_P(Pack, AWriteWithAnIdempotencyKeyHappensOnce) {
  std::string sales = sales_key();
  auto first = call("POST", pack + "/follow-ups", sales, {{"title", "Ligar"}, {"key", "lead-42"}});
  ASSERT_EQ(first.status, 201) << first.raw.body;
  auto again = call("POST", pack + "/follow-ups", sales, {{"title", "Ligar"}, {"key", "lead-42"}});
  ASSERT_EQ(again.status, 201) << again.raw.body;
  EXPECT_EQ(again.body["id"], first.body["id"]);
  EXPECT_EQ(h->count("SELECT count(*) FROM tasks WHERE title = 'Ligar'"), 1);
  // The same key for another request is refused, naming it; another key writes again.
  auto reused = call("POST", pack + "/follow-ups", sales, {{"title", "Visitar"}, {"key", "lead-42"}});
  EXPECT_EQ(reused.status, 422) << reused.raw.body;
  EXPECT_NE(reused.raw.body.find("idempotency_key"), std::string::npos) << reused.raw.body;
  EXPECT_EQ(call("POST", pack + "/follow-ups", sales, {{"title", "Ligar"}, {"key", "lead-43"}}).status, 201);
  EXPECT_EQ(h->count("SELECT count(*) FROM tasks WHERE title = 'Ligar'"), 2);
  // Keys are the plugin's per tenant: another tenant's lead-42 is its own task.
  std::string other = user_key(h->create_tenant("Other"), "sales");
  auto elsewhere = call("POST", pack + "/follow-ups", other, {{"title", "Ligar"}, {"key", "lead-42"}});
  ASSERT_EQ(elsewhere.status, 201) << elsewhere.raw.body;
  EXPECT_NE(elsewhere.body["id"], first.body["id"]);
}

TEST_P(Pack, TheTenantsAdminSetsThePluginsSettingsAndOnlyThePluginSeesSecrets) {
  const std::string settings = "/v1/plugins/org.nucleo.fixtures.pack/settings";
  auto fresh = call("GET", settings, admin);
  ASSERT_EQ(fresh.status, 200) << fresh.raw.body;
  EXPECT_EQ(fresh.body["settings"], (Json{{"region", "sul"}}));  // the manifest's default
  EXPECT_EQ(fresh.body["version"], 0);
  EXPECT_EQ(call("GET", pack + "/region", admin).body, (Json{{"region", "sul"}, {"token_length", 0}}));

  auto set = call("PUT", settings, admin, {{"settings", {{"region", "norte"}, {"hectare_price", 1200}}},
                                           {"secrets", {{"api_token", "s3cr3t-token"}}}});
  ASSERT_EQ(set.status, 200) << set.raw.body;
  EXPECT_EQ(set.body["version"], 1);
  EXPECT_EQ(set.raw.header("ETag"), "\"1\"");
  EXPECT_EQ(set.body["secret_names"], Json::array({"api_token"}));
  EXPECT_EQ(set.raw.body.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(call("GET", pack + "/region", sales_key()).body, (Json{{"region", "norte"}, {"token_length", 12}}));

  // Secrets stay when not named, go when null; settings are replaced as a whole.
  auto again = call("PUT", settings, admin, {{"settings", {{"region", "centro-oeste"}}}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(again.status, 200) << again.raw.body;
  EXPECT_EQ(again.body["settings"], (Json{{"region", "centro-oeste"}}));
  EXPECT_EQ(call("GET", pack + "/region", admin).body["token_length"], 12);
  EXPECT_EQ(call("PUT", settings, admin, {{"settings", Json::object()}}, {{"If-Match", "\"1\""}}).status, 412);

  // Every mistake named; nothing written.
  auto bad = call("PUT", settings, admin,
                  {{"settings", {{"region", "leste"}, {"api_token", "x"}, {"nope", 1}}}, {"secrets", {{"region", "x"}}}});
  ASSERT_EQ(bad.status, 422) << bad.raw.body;
  for (const char* field : {"settings.region", "settings.api_token", "settings.nope", "secrets.region"})
    EXPECT_NE(bad.raw.body.find(field), std::string::npos) << field << " in " << bad.raw.body;
  EXPECT_EQ(call("GET", settings, admin).body["version"], 2);

  // Who may: the admin sets, the auditor reads, no one else.
  EXPECT_EQ(call("GET", settings, auditor).status, 200);
  EXPECT_EQ(call("PUT", settings, auditor, {{"settings", Json::object()}}).status, 403);
  EXPECT_EQ(call("GET", settings, sales_key()).status, 403);
  EXPECT_EQ(call("GET", "/v1/plugins/org.nucleo.absent/settings", admin).status, 404);

  // Another tenant has its own, and the secret is nowhere in the clear.
  std::string other = user_key(h->create_tenant("Other"), "admin");
  EXPECT_EQ(call("GET", pack + "/region", other).body, (Json{{"region", "sul"}, {"token_length", 0}}));
  EXPECT_EQ(h->count("SELECT count(*) FROM plugin_settings WHERE secrets_sealed LIKE '%s3cr3t%'"), 0);
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the sequencer has logged them
    events = call("GET", "/v1/audit/events?entity_id=org.nucleo.fixtures.pack", auditor);
    if (events.body["data"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.body["data"].size(), 2u) << events.raw.body;
  EXPECT_EQ(events.raw.body.find("s3cr3t"), std::string::npos);
  EXPECT_NE(events.raw.body.find("plugin_settings.updated"), std::string::npos);
}

TEST_P(Pack, ThePacksRecordsJoinTheTimelineAndItsSectionTheBriefing) {
  std::string sales = sales_key();
  deal_body(1, sales);  // creates account_, owned by the sales user
  auto note = call("POST", "/v1/interactions", sales,
                   {{"type", "note"}, {"direction", "internal"}, {"body", "ligou"}, {"account_id", account_}});
  ASSERT_EQ(note.status, 201) << note.raw.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto visit = call("POST", pack + "/visits", sales, {{"account_id", account_}, {"notes", "talhão 3"}});
  ASSERT_EQ(visit.status, 201) << visit.raw.body;
  ASSERT_EQ(call("POST", pack + "/visits", sales, {{"account_id", "acc_elsewhere"}}).status, 201);

  auto timeline = call("GET", "/v1/accounts/" + account_ + "/timeline", sales);
  ASSERT_EQ(timeline.status, 200) << timeline.raw.body;
  ASSERT_EQ(timeline.body["data"].size(), 2u) << timeline.raw.body;  // the visit, then the note: newest first
  const Json& first = timeline.body["data"][0];
  EXPECT_EQ(first["kind"], "org.nucleo.fixtures.pack.visits");
  EXPECT_EQ(first["id"], visit.body["id"]);
  EXPECT_EQ(first["data"]["notes"], "talhão 3");
  EXPECT_EQ(timeline.body["data"][1]["kind"], "interaction");
  // Paged and merged by time: one item a page, the same two in the same order.
  auto page = call("GET", "/v1/accounts/" + account_ + "/timeline?limit=1", sales);
  ASSERT_EQ(page.body["data"].size(), 1u);
  EXPECT_EQ(page.body["data"][0]["id"], visit.body["id"]);
  auto rest = call("GET", "/v1/accounts/" + account_ + "/timeline?limit=1&cursor=" +
                              page.body["next_cursor"].get<std::string>(), sales);
  ASSERT_EQ(rest.status, 200) << rest.raw.body;
  EXPECT_EQ(rest.body["data"][0]["kind"], "interaction");

  // An integration key without plugin_records:read sees the kernel's items only.
  std::string robot = integration_key(h->tenant, Json::array({"accounts:read", "interactions:read"}));
  auto narrow = call("GET", "/v1/accounts/" + account_ + "/timeline", robot);
  ASSERT_EQ(narrow.status, 200) << narrow.raw.body;
  EXPECT_EQ(narrow.body["data"].size(), 1u) << narrow.raw.body;
  // Another tenant cannot reach the account, let alone its visits.
  EXPECT_EQ(call("GET", "/v1/accounts/" + account_ + "/timeline", user_key(h->create_tenant("Other"), "admin")).status,
            404);

  call("PUT", "/v1/plugins/org.nucleo.fixtures.pack/settings", admin, {{"settings", {{"region", "norte"}}}});
  auto briefing = call("GET", "/v1/accounts/" + account_ + "/briefing", sales);
  ASSERT_EQ(briefing.status, 200) << briefing.raw.body;
  EXPECT_EQ(briefing.body["sections"]["org.nucleo.fixtures.pack.agro"],
            (Json{{"title", "Field visits"}, {"data", {{"visits", 1}, {"region", "norte"}}}}))
      << briefing.raw.body;
  // A section that fails is shown as its error; the rest of the briefing stands.
  EXPECT_EQ(briefing.body["sections"]["org.nucleo.fixtures.pack.car"],
            (Json{{"title", "CAR registry"}, {"error", "UNAVAILABLE: no CAR registry configured"}}))
      << briefing.raw.body;
  EXPECT_TRUE(briefing.body["open_deals"].is_array());
}

TEST_P(Pack, AResourceDeclaredInTheManifestGetsTheKernelsProtocol) {
  const std::string contracts = pack + "/contracts";
  auto contract = [&](const std::string& status, int hectares) {
    return Json{{"account_id", "acc_1"}, {"status", status}, {"hectares", hectares}, {"crop", "soja"}};
  };
  auto created = call("POST", contracts, manager, contract("draft", 120));
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"];
  EXPECT_EQ(id.rfind("ctr_", 0), 0u) << id;
  EXPECT_EQ(created.raw.header("Location"), contracts + "/" + id);
  EXPECT_EQ(created.raw.header("ETag"), "\"1\"");
  EXPECT_EQ(created.body["crop"], "soja");
  EXPECT_EQ(created.body["version"], 1);

  // Validation names every field; the manifest's roles decide who writes.
  auto invalid = call("POST", contracts, manager, {{"status", "lost"}, {"hectares", 0}, {"colour", "red"}});
  ASSERT_EQ(invalid.status, 422) << invalid.raw.body;
  for (const char* named : {"status", "hectares", "account_id", "colour"})
    EXPECT_NE(invalid.raw.body.find(named), std::string::npos) << named << " in " << invalid.raw.body;
  EXPECT_EQ(call("POST", contracts, sales_key(), contract("draft", 10)).status, 403);
  EXPECT_EQ(call("POST", contracts, auditor, contract("draft", 10)).status, 403);
  EXPECT_EQ(call("GET", contracts + "/" + id, sales_key()).status, 200);
  EXPECT_EQ(call("GET", contracts, auditor).status, 200);

  // Versions: If-Match applies a patch to the version it names; one writer wins.
  auto signed_ = call("PATCH", contracts + "/" + id, manager, {{"status", "signed"}, {"crop", nullptr}},
                      {{"If-Match", "\"1\""}});
  ASSERT_EQ(signed_.status, 200) << signed_.raw.body;
  EXPECT_EQ(signed_.body["version"], 2);
  EXPECT_FALSE(signed_.body.contains("crop"));
  EXPECT_EQ(call("PATCH", contracts + "/" + id, manager, {{"status", "draft"}}, {{"If-Match", "\"1\""}}).status, 412);
  EXPECT_EQ(call("PATCH", contracts + "/" + id, manager, {{"hectares", -1}}).status, 422);
  EXPECT_EQ(call("GET", contracts + "/" + id, manager).body["hectares"], 120);

  // Filters on indexes, sort, count, cursors.
  for (int hectares : {50, 300, 80}) ASSERT_EQ(call("POST", contracts, manager, contract("signed", hectares)).status, 201);
  auto big = call("GET", contracts + "?status=signed&hectares.gte=80&sort=-hectares&count=true", manager);
  ASSERT_EQ(big.status, 200) << big.raw.body;
  std::vector<int> order;
  for (const auto& c : big.body["data"]) order.push_back(c["hectares"]);
  EXPECT_EQ(order, (std::vector<int>{300, 120, 80}));
  EXPECT_EQ(big.body["count"], 3);
  std::vector<int> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r = call("GET", contracts + "?sort=hectares&limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor), manager);
    ASSERT_EQ(r.status, 200) << r.raw.body;
    for (const auto& c : r.body["data"]) paged.push_back(c["hectares"]);
    if (r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"];
  }
  EXPECT_EQ(paged, (std::vector<int>{50, 80, 120, 300}));
  EXPECT_EQ(call("GET", contracts + "?hectares.gte=many", manager).status, 400);
  EXPECT_EQ(call("GET", contracts + "?colour=red", manager).status, 400);

  // Idempotency-Key, as on every POST.
  auto once = call("POST", contracts, manager, contract("draft", 7), {{"Idempotency-Key", "import-7"}});
  auto twice = call("POST", contracts, manager, contract("draft", 7), {{"Idempotency-Key", "import-7"}});
  ASSERT_EQ(twice.status, 201) << twice.raw.body;
  EXPECT_EQ(twice.body["id"], once.body["id"]);
  EXPECT_EQ(twice.raw.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(twice.raw.header("Location"), once.raw.header("Location"));
  EXPECT_EQ(call("GET", contracts + "?hectares=7&count=true", manager).body["count"], 1);

  // Tenants never see each other's.
  std::string other = user_key(h->create_tenant("Other"), "admin");
  EXPECT_EQ(call("GET", contracts, other).body["data"].size(), 0u);
  EXPECT_EQ(call("GET", contracts + "/" + id, other).status, 404);
  EXPECT_EQ(call("DELETE", contracts + "/" + id, other).status, 404);

  EXPECT_EQ(call("DELETE", contracts + "/" + id, manager, nullptr, {{"If-Match", "\"1\""}}).status, 412);
  EXPECT_EQ(call("DELETE", contracts + "/" + id, manager, nullptr, {{"If-Match", "\"2\""}}).status, 200);
  EXPECT_EQ(call("GET", contracts + "/" + id, manager).status, 404);

  // Audited like every write, and described in the OpenAPI document.
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {
    events = call("GET", "/v1/audit/events?entity_id=org.nucleo.fixtures.pack/contracts/" + id, auditor);
    if (events.body["data"].size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(events.body["data"].size(), 3u) << events.raw.body;  // created, updated, deleted
  auto doc = call("GET", "/v1/openapi.json", admin).body;
  const Json& post = doc["paths"][contracts]["post"];
  EXPECT_EQ(post["requestBody"]["content"]["application/json"]["schema"]["properties"]["status"]["enum"],
            Json::array({"draft", "signed", "cancelled"}))
      << post.dump();
  EXPECT_TRUE(doc["paths"][contracts + "/{id}"].contains("patch"));
}

TEST_P(Pack, OfTwoWritersExpectingOneVersionOneWins) {
  auto first = call("PUT", pack + "/farms/f1", admin, {{"name", "Santa Rita"}});
  ASSERT_EQ(first.status, 200) << first.raw.body;
  EXPECT_EQ(first.body["version"], 1);
  EXPECT_EQ(call("PUT", pack + "/farms/f1", admin, {{"name", "again"}}).status, 409);
  EXPECT_EQ(call("PUT", pack + "/farms/f1", admin, {{"name", "II"}}, {{"If-Match", "1"}}).body["version"], 2);
  EXPECT_EQ(call("PUT", pack + "/farms/f1", admin, {{"name", "stale"}}, {{"If-Match", "1"}}).status, 409);
  EXPECT_EQ(call("PUT", pack + "/farms/f2", admin, {{"name", "gone"}}, {{"If-Match", "3"}}).status, 404);

  // Two writers racing on version 2: exactly one wins.
  std::vector<int> statuses(2);
  std::vector<std::thread> writers;
  for (int i = 0; i < 2; ++i)
    writers.emplace_back([&, i] {
      statuses[i] = call("PUT", pack + "/farms/f1", admin, {{"name", "writer " + std::to_string(i)}},
                         {{"If-Match", "2"}}).status;
    });
  for (auto& w : writers) w.join();
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{200, 409}));
}

// Point 8: what the manifest declares personal is erased with the contact — documents
// deleted or redacted, attributes removed, old values sealed in the audit trail — and
// the admin and auditor can read what plugins hold about her beforehand.
TEST_P(Pack, ErasureReachesWhatThePackDeclaresPersonalAndOnlyThat) {
  auto contact = [&](const std::string& name, const std::string& cpf) {
    auto r = call("POST", "/v1/contacts", admin, {{"name", name}, {"attributes", {{"pack.producer_cpf", cpf}}}});
    EXPECT_EQ(r.status, 201) << r.raw.body;
    return r.body["id"].get<std::string>();
  };
  std::string joana = contact("Joana Prado", "123.456.789-09"), other = contact("Rui Lemos", "987.654.321-00");
  auto note = call("POST", "/v1/interactions", admin,
                   {{"type", "whatsapp"}, {"direction", "inbound"}, {"contact_id", joana},
                    {"attributes", {{"pack.producer_phone", "+5565999990001"}, {"pack.crop", "soja"}}}});
  ASSERT_EQ(note.status, 201) << note.raw.body;
  auto review = [&](const std::string& subject, const std::string& name) {
    auto r = call("POST", pack + "/kyc_reviews", manager,
                  {{"contact_id", subject}, {"decision", "approved"}, {"full_name", name}, {"document_number", "RG-4471"}});
    EXPECT_EQ(r.status, 201) << r.raw.body;
    return r.body["id"].get<std::string>();
  };
  std::string hers = review(joana, "Joana Prado"), his = review(other, "Rui Lemos");
  auto opt_in = call("POST", pack + "/opt_ins", manager, {{"contact_id", joana}, {"phone", "+5565999990001"}});
  ASSERT_EQ(opt_in.status, 201) << opt_in.raw.body;

  // What plugins hold about her: hers only, for the admin and the auditor.
  const std::string held = "/v1/privacy/subjects/" + joana + "/plugin-data";
  EXPECT_EQ(call("GET", held, manager).status, 403);
  auto before = call("GET", held, auditor);
  ASSERT_EQ(before.status, 200) << before.raw.body;
  ASSERT_EQ(before.body["plugin_records"].size(), 2u) << before.raw.body;
  EXPECT_EQ(before.raw.body.find("Rui"), std::string::npos);
  std::set<std::string> keys;
  for (const auto& a : before.body["personal_attributes"]) keys.insert(a["key"]);
  EXPECT_EQ(keys, (std::set<std::string>{"pack.producer_cpf", "pack.producer_phone"})) << before.raw.body;
  EXPECT_EQ(call("GET", "/v1/privacy/subjects/con_01m80gv6y4eqcsmge90bwbtca7/plugin-data", admin).status, 404);

  auto erased = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", joana}, {"reason", "titular request"}});
  ASSERT_EQ(erased.status, 201) << erased.raw.body;
  EXPECT_EQ(erased.body["plugin_records_deleted"], 1);
  EXPECT_EQ(erased.body["plugin_records_redacted"], 1);
  EXPECT_EQ(erased.body["personal_attributes_erased"], 1);

  // Her review keeps its decision without her name; the opt-in is gone; his is intact.
  auto kept = call("GET", pack + "/kyc_reviews/" + hers, auditor);
  ASSERT_EQ(kept.status, 200) << kept.raw.body;
  EXPECT_EQ(kept.body["decision"], "approved");
  EXPECT_FALSE(kept.body.contains("full_name")) << kept.raw.body;
  EXPECT_FALSE(kept.body.contains("document_number")) << kept.raw.body;
  EXPECT_EQ(kept.body["version"], 2);
  EXPECT_EQ(call("GET", pack + "/opt_ins/" + opt_in.body["id"].get<std::string>(), auditor).status, 404);
  EXPECT_EQ(call("GET", pack + "/kyc_reviews/" + his, auditor).body["full_name"], "Rui Lemos");
  auto status = call("GET", pack + "/kyc-status/" + joana, manager);  // the plugin copes with what is left
  EXPECT_EQ(status.body, (Json{{"decision", "approved"}, {"reviewed_as", nullptr}})) << status.raw.body;
  auto interaction = call("GET", "/v1/interactions/" + note.body["id"].get<std::string>(), admin);
  EXPECT_EQ(interaction.body["attributes"], (Json{{"pack.crop", "soja"}})) << interaction.raw.body;
  auto after = call("GET", held, admin);
  EXPECT_EQ(after.body["plugin_records"].size(), 1u);  // the redacted review, still naming her id
  EXPECT_EQ(after.body["personal_attributes"].size(), 0u) << after.raw.body;

  // The audit trail kept the writes but not her data: the sealed values died with her key.
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {
    events = call("GET", "/v1/audit/events?limit=200", auditor);
    if (events.raw.body.find("privacy.subject_erased") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(events.raw.body.find("privacy.subject_erased"), std::string::npos);
  EXPECT_NE(events.raw.body.find("plugin_record.erased"), std::string::npos);
  EXPECT_NE(events.raw.body.find("privacy.subject_data_read"), std::string::npos);
  for (const char* gone : {"Joana", "RG-4471", "+5565999990001", "123.456.789-09"})
    EXPECT_EQ(events.raw.body.find(gone), std::string::npos) << gone << " in " << events.raw.body;
}

// Point 8: the declaration outlives the plugin — one removed from the configuration
// still has what it holds about a person erased with her.
TEST_P(Pack, WhatAPluginNoLongerLoadedHoldsIsErasedToo) {
  std::string lia = call("POST", "/v1/contacts", admin, {{"name", "Lia Campos"}}).body["id"];
  auto opt_in = call("POST", pack + "/opt_ins", manager, {{"contact_id", lia}, {"phone", "+5565999990003"}});
  ASSERT_EQ(opt_in.status, 201) << opt_in.raw.body;

  server->signal(SIGTERM);
  ASSERT_EQ(server->wait(std::chrono::seconds(30)).exit_code, 0);
  std::ofstream(plugin_dir.path() + "/nucleo.properties") << "# no plugins\n";
  start_server();
  EXPECT_EQ(call("GET", pack + "/opt_ins/" + opt_in.body["id"].get<std::string>(), admin).status, 404);  // not served

  auto held = call("GET", "/v1/privacy/subjects/" + lia + "/plugin-data", admin);
  ASSERT_EQ(held.status, 200) << held.raw.body;
  EXPECT_EQ(held.body["plugin_records"].size(), 1u) << held.raw.body;
  auto erased = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", lia}, {"reason", "titular request"}});
  ASSERT_EQ(erased.status, 201) << erased.raw.body;
  EXPECT_EQ(erased.body["plugin_records_deleted"], 1);
  EXPECT_EQ(h->count("SELECT count(*) FROM plugin_records WHERE collection = 'opt_ins'"), 0);
}

// Point 8: a version that declares another index has the documents re-indexed at load.
TEST_P(Pack, ANewIndexCoversTheDocumentsWrittenBeforeIt) {
  const std::string contracts = pack + "/contracts";
  for (const char* crop : {"soja", "milho", "soja"})
    ASSERT_EQ(call("POST", contracts, manager,
                   {{"account_id", "acc_1"}, {"status", "draft"}, {"hectares", 10}, {"crop", crop}}).status, 201);
  EXPECT_EQ(call("GET", contracts + "?crop=soja", manager).status, 400);  // not indexed yet

  server->signal(SIGTERM);
  ASSERT_EQ(server->wait(std::chrono::seconds(30)).exit_code, 0);
  std::string manifest_file = plugin_dir.path() + "/pack/plugin.json";
  Json manifest = Json::parse(std::ifstream(manifest_file));
  manifest["collections"]["contracts"]["indexes"]["crop"] = "string";
  std::ofstream(manifest_file) << manifest.dump();
  start_server();

  auto soja = call("GET", contracts + "?crop=soja&count=true", manager);
  ASSERT_EQ(soja.status, 200) << soja.raw.body;
  EXPECT_EQ(soja.body["count"], 2) << soja.raw.body;
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {
    events = call("GET", "/v1/audit/events?entity_id=org.nucleo.fixtures.pack/contracts", auditor);
    if (events.body["data"].size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.body["data"].size(), 1u) << events.raw.body;
  EXPECT_EQ(events.body["data"][0]["leaf"]["action"], "plugin_collection.reindexed") << events.raw.body;
}

// ABI 1.6: a registry export in the pack's own format, through the kernel's import job —
// its mapping, progress, error report, dry run and upsert — producers as accounts, farms
// in the pack's record store.
TEST_P(Pack, ThePacksImportFormatLoadsARegistryThroughTheImportJob) {
  std::string file =
      "CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA\n"
      "MT-5107925-AAAA;11.222.333/0001-81;Agro Sul Ltda;Sorriso;1200,5\n"
      "MT-5107925-BBBB;s\xC3\xB3 tr\xC3\xAAs;campos\n"
      "MT-5107925-CCCC;529.982.247-25;Maria Souza;Sinop;80\n";
  auto farms = [&] {
    return h->count("SELECT count(*) FROM plugin_records WHERE tenant_id = '" + h->tenant +
                    "' AND plugin_id = 'org.nucleo.fixtures.pack' AND collection = 'farms'");
  };
  auto accounts = [&] { return h->count("SELECT count(*) FROM accounts WHERE tenant_id = '" + h->tenant + "'"); };

  // A dry run first: the whole report, nothing written.
  auto dry = upload_import(file, {{"format", "car_registry"}, {"dry_run", "true"}}, "", "car.csv");
  ASSERT_EQ(dry.status, 202) << dry.raw.body;
  Json tried = finished_import(dry.body["id"]);
  EXPECT_EQ(tried["status"], "done") << tried.dump();
  EXPECT_EQ(tried["progress"]["created"], 4);
  EXPECT_EQ(tried["progress"]["failed"], 1);
  EXPECT_EQ(accounts(), 0);
  EXPECT_EQ(farms(), 0);

  auto queued = upload_import(file, {{"format", "car_registry"}}, "", "car.csv");
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json done = finished_import(queued.body["id"]);
  EXPECT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["entity_type"], "account");
  EXPECT_EQ(done["mapping"]["key"], "tax_id");  // the format's own, kept with the import
  EXPECT_EQ(done["progress"]["created"], 4);  // two accounts, two farms
  EXPECT_EQ(done["progress"]["failed"], 1);
  EXPECT_EQ(accounts(), 2);
  EXPECT_EQ(farms(), 2);
  auto listed = call("GET", "/v1/accounts", admin);
  ASSERT_EQ(listed.body["data"].size(), 2u) << listed.raw.body;
  Json agro;
  for (const auto& a : listed.body["data"])
    if (a["legal_name"] == "Agro Sul Ltda") agro = a;
  EXPECT_EQ(agro["tax_id"], "11222333000181");
  EXPECT_EQ(agro["attributes"]["pack.car"], "MT-5107925-AAAA");
  auto errors = call_raw("GET", "/v1/imports/" + done["id"].get<std::string>() + "/errors", admin, "");
  EXPECT_NE(errors.raw.body.find("expected 5 fields separated by ';', found 3"), std::string::npos) << errors.raw.body;
  EXPECT_NE(errors.raw.body.find("\n3,3,"), std::string::npos) << errors.raw.body;  // row 3, the file's line 3

  // The same file again: the key finds every producer, the store every farm.
  Json again = finished_import(upload_import(file, {{"format", "car_registry"}}, "", "car.csv").body["id"]);
  EXPECT_EQ(again["progress"]["unchanged"], 4) << again.dump();
  EXPECT_EQ(accounts(), 2);

  // A file the format refuses fails the import with the pack's reason; nothing is written.
  Json refused = finished_import(upload_import("Nome;E-mail\nAna;ana@x.com\n", {{"format", "car_registry"}}).body["id"]);
  EXPECT_EQ(refused["status"], "failed");
  EXPECT_NE(refused.dump().find("not a CAR registry export"), std::string::npos) << refused.dump();
  EXPECT_EQ(accounts(), 2);
}

// Issue #30: a data-subject request from intake to delivery. The access report holds her
// kernel data, her messages, her consents and what the pack holds about her — nothing of
// another contact or tenant —, its proofs verify offline, the subject downloads it through
// a signed link, and a request about her once erased answers what remains and why.
TEST_P(Pack, AnAccessRequestIsAnsweredWithHerDataOnlyAndItsProofsVerifyOffline) {
  auto contact = [&](const std::string& tenant_key, const std::string& name, const std::string& cpf) {
    auto r = call("POST", "/v1/contacts", tenant_key,
                  {{"name", name}, {"email", "joana.prado@example.com"}, {"attributes", {{"pack.producer_cpf", cpf}}}});
    EXPECT_EQ(r.status, 201) << r.raw.body;
    return r.body["id"].get<std::string>();
  };
  std::string joana = contact(admin, "Joana Prado", "123.456.789-09");
  std::string rui = call("POST", "/v1/contacts", admin, {{"name", "Rui Lemos"}}).body["id"];
  std::string stranger_admin = user_key(h->create_tenant("Outra Cooperativa"), "admin");
  contact(stranger_admin, "Estranha Nunes", "111.222.333-44");
  for (const auto& [who, text] : {std::pair{joana, "Quero uma cópia dos meus dados"}, {rui, "Segredo do Rui"}})
    ASSERT_EQ(call("POST", "/v1/interactions", admin,
                   {{"type", "whatsapp"}, {"direction", "inbound"}, {"contact_id", who}, {"body", text}})
                  .status, 201);
  for (const auto& [who, name] : {std::pair{joana, "Joana Prado"}, {rui, "Rui Lemos"}})
    ASSERT_EQ(call("POST", pack + "/kyc_reviews", manager,
                   {{"contact_id", who}, {"decision", "approved"}, {"full_name", name}, {"document_number", "RG-4471"}})
                  .status, 201);
  ASSERT_EQ(call("PUT", "/v1/privacy/purposes/newsletter", admin, {{"description", "Boletim da safra"}}).status, 200);
  ASSERT_EQ(call("POST", "/v1/contacts/" + joana + "/consents", admin,
                 {{"purpose", "newsletter"}, {"action", "grant"}, {"legal_basis", "consent"}, {"notice", "Aviso v2"}})
                .status, 201);

  // Intake: an admin user is assigned, with a task due at the deadline on their agenda.
  std::string officer_id, officer = user_key(h->tenant, "admin", &officer_id);
  const std::string requests = "/v1/privacy/requests";
  EXPECT_EQ(call("POST", requests, manager, {{"kind", "access"}, {"contact_id", joana}, {"received_via", "e-mail"}}).status, 403);
  auto bad = call("POST", requests, officer, {{"kind", "everything"}, {"contact_id", joana}, {"received_via", "e-mail"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.body["errors"][0]["field"], "kind") << bad.raw.body;
  auto opened = call("POST", requests, officer,
                     {{"kind", "access"}, {"contact_id", joana}, {"received_via", "e-mail"}, {"details", "Pediu tudo"}});
  ASSERT_EQ(opened.status, 201) << opened.raw.body;
  const std::string id = opened.body["id"], request = requests + "/" + id;
  EXPECT_EQ(opened.body["status"], "received");
  EXPECT_EQ(opened.body["assignee_id"], officer_id);
  EXPECT_EQ(parse_rfc3339(opened.body["due_at"].get<std::string>())->micros -
                parse_rfc3339(opened.body["received_at"].get<std::string>())->micros,
            15LL * 86'400'000'000);
  auto task = call("GET", "/v1/tasks/" + opened.body["task_id"].get<std::string>(), officer);
  EXPECT_EQ(task.body["assignee_id"], officer_id);
  EXPECT_EQ(task.body["due_at"], opened.body["due_at"]);
  EXPECT_EQ(call("GET", request, manager).status, 403);
  EXPECT_EQ(call("GET", request, auditor).status, 200);
  EXPECT_EQ(call("GET", request, stranger_admin).status, 404);

  // No report before the requester's identity is checked.
  EXPECT_EQ(call("POST", request + "/report", officer).status, 409);
  auto verified = call("POST", request + "/identity", officer, {{"method", "document"}, {"reference", "RG conferido"}});
  ASSERT_EQ(verified.status, 200) << verified.raw.body;
  EXPECT_EQ(verified.body["status"], "in_progress");

  // Let a signed checkpoint cover her records first, so their proofs lead to it.
  Json events = until("/v1/audit/events?entity_type=contact&entity_id=" + joana + "&limit=200",
                      [](const Json& page) { return page["data"].size() == 2; });  // created, consent changed
  ASSERT_EQ(events["data"].size(), 2u) << events;
  std::int64_t newest = events["data"].back()["seq"];
  for (int i = 0; i < 600; ++i) {
    std::string note = call_raw("GET", "/v1/audit/checkpoint", auditor, "").raw.body;
    auto line = note.find('\n');
    if (line != std::string::npos && std::stoll(note.substr(line + 1)) > newest) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto queued = call("POST", request + "/report", officer);
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json ready = until(request, [](const Json& r) { return r["report"].value("status", "") == "ready"; });
  EXPECT_EQ(ready["report"]["progress"]["done"], ready["report"]["progress"]["total"]);

  auto report = call_raw("GET", request + "/report", auditor, "");
  ASSERT_EQ(report.status, 200) << report.raw.body;
  const std::string& text = report.raw.body;
  for (const char* hers : {"Joana Prado", "123.456.789-09", "Quero uma c\u00f3pia dos meus dados", "Aviso v2", "Pediu tudo"})
    EXPECT_NE(text.find(hers), std::string::npos) << hers;
  for (const char* others : {"Rui", "Segredo", "Estranha", "111.222.333-44"})
    EXPECT_EQ(text.find(others), std::string::npos) << others;
  Json bundle = Json::parse(text);
  EXPECT_EQ(bundle["format"], "nucleo-subject-report");
  EXPECT_EQ(bundle["interactions"].size(), 1u);
  ASSERT_EQ(bundle["plugin_data"]["plugin_records"].size(), 1u);
  EXPECT_EQ(bundle["plugin_data"]["plugin_records"][0]["document"]["full_name"], "Joana Prado");
  EXPECT_EQ(bundle["consents"]["entries"].size(), 1u);
  EXPECT_EQ(bundle["history"]["contact/" + joana].size(), 2u);  // created, consent changed
  bool contact_proven = false;
  for (const auto& e : bundle["audit"]["events"])
    if (e["entity_type"] == "contact") contact_proven = !e["proof"].is_null();
  EXPECT_TRUE(contact_proven) << bundle["audit"];
  auto document = call_raw("GET", request + "/report?format=markdown", auditor, "");
  EXPECT_EQ(document.raw.header("Content-Type"), "text/markdown; charset=utf-8");
  EXPECT_NE(document.raw.body.find("Joana Prado"), std::string::npos);
  EXPECT_EQ(document.raw.body.find("Rui"), std::string::npos);

  // Offline, with the log's key: every proof leads to the signed checkpoint.
  std::ofstream(dir.path() + "/report.json") << text;
  std::string origin = bundle["audit"]["checkpoint"].get<std::string>();
  std::ofstream(dir.path() + "/log.vkey") << audit::vkey(origin.substr(0, origin.find('\n')), signing_key->public_key()) << "\n";
  auto verify = run_process({NUCLEO_BINARY, "audit", "verify", dir.path() + "/report.json", "--vkey", dir.path() + "/log.vkey"},
                            {}, std::chrono::minutes(1));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("PASS"), std::string::npos) << verify.out;

  // Delivery: a signed link, no credential; altered, it opens nothing.
  auto link = call("POST", request + "/download-link", officer);
  ASSERT_EQ(link.status, 201) << link.raw.body;
  const std::string path = link.body["path"];
  auto downloaded = call_raw("GET", path, "", "");
  ASSERT_EQ(downloaded.status, 200) << downloaded.raw.body;
  EXPECT_EQ(downloaded.raw.body, text);
  EXPECT_NE(downloaded.raw.header("Content-Disposition").find("attachment"), std::string::npos);
  std::string altered = path;
  altered.back() = altered.back() == '0' ? '1' : '0';
  EXPECT_EQ(call_raw("GET", altered, "", "").status, 404);

  auto done = call("POST", request + "/complete", officer, {{"outcome", "Relatório enviado por link"}});
  ASSERT_EQ(done.status, 200) << done.raw.body;
  EXPECT_EQ(done.body["status"], "completed");
  EXPECT_EQ(call("GET", "/v1/tasks/" + opened.body["task_id"].get<std::string>(), officer).body["status"], "done");
  EXPECT_EQ(call("POST", request + "/reject", officer, {{"outcome", "x"}}).status, 409);
  auto trail = call("GET", "/v1/audit/events?entity_type=privacy_request&entity_id=" + id + "&limit=50", auditor);
  std::set<std::string> actions;
  for (const auto& e : trail.body["data"]) actions.insert(e["leaf"]["action"]);
  for (const char* step : {"privacy.request_received", "privacy.request_identity_verified", "privacy.report_queued"})
    EXPECT_TRUE(actions.count(step)) << step << " in " << trail.raw.body;  // later ones may still be sequencing

  // Erased, her report goes with her data; a new request answers what remains and why.
  ASSERT_EQ(call("POST", "/v1/privacy/erasures", admin, {{"contact_id", joana}, {"reason", "titular request"}}).status, 201);
  EXPECT_EQ(call_raw("GET", path, "", "").status, 404);
  auto again = call("POST", requests, officer, {{"kind", "access"}, {"contact_id", joana}, {"received_via", "e-mail"}});
  ASSERT_EQ(again.status, 201) << again.raw.body;
  const std::string second = requests + "/" + again.body["id"].get<std::string>();
  ASSERT_EQ(call("POST", second + "/identity", officer, {{"method", "document"}, {"reference", "RG"}}).status, 200);
  ASSERT_EQ(call("POST", second + "/report", officer).status, 202);
  until(second, [](const Json& r) { return r["report"].value("status", "") == "ready"; });
  auto remains = call_raw("GET", second + "/report", auditor, "");
  Json left = Json::parse(remains.raw.body);
  EXPECT_TRUE(left["subject"]["erased"].get<bool>());
  EXPECT_NE(left["subject"]["note"].get<std::string>().find("erased"), std::string::npos);
  EXPECT_EQ(remains.raw.body.find("Joana"), std::string::npos);
  EXPECT_EQ(remains.raw.body.find("Quero uma"), std::string::npos);
  EXPECT_FALSE(left["history"]["contact/" + joana].empty());  // the trail remains, her values sealed away
}

INSTANTIATE_TEST_SUITE_P(Backends, Pack, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
