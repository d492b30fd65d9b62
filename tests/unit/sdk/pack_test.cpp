// The pack fixture (tests/plugin_abi/pack.cpp) against the SDK's fake host alone, the
// way a vertical pack's author unit-tests it: caller identity, the clock, raw bodies in
// and out, a maker-checker validator, an event handler writing the record store.
#include <gtest/gtest.h>

#include <nucleo/sdk/testing/fake_host.hpp>

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace {

using nucleo::sdk::Json;

class PackTest : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(PACK_MANIFEST));
    host.load(&nucleo_plugin_entry);
  }
  nucleo::sdk::testing::FakeHost host;
};

TEST_F(PackTest, RoutesSeeWhoCalls) {
  host.role = "manager";
  host.teams = {"team_south"};
  auto reply = host.request("GET", "/whoami");
  EXPECT_EQ(reply.body["caller"]["role"], "manager");
  EXPECT_EQ(reply.body["caller"]["teams"], Json::array({"team_south"}));
  EXPECT_EQ(reply.body["caller"]["user_id"], "usr_test");
  EXPECT_EQ(reply.body["caller"]["scopes"], nullptr);
  EXPECT_EQ(reply.body["request"], reply.body["caller"]);  // the request carries the same

  host.role = "integration";
  host.user_id = "";
  host.scopes = Json::array({"org.nucleo.fixtures.pack:read"});
  reply = host.request("GET", "/whoami");
  EXPECT_EQ(reply.body["caller"]["scopes"], Json::array({"org.nucleo.fixtures.pack:read"}));
}

TEST_F(PackTest, TheClockIsTheHostsAndTestsMoveIt) {
  EXPECT_EQ(host.request("GET", "/clock").body["now_micros"], host.now_micros);
  host.advance(90LL * 24 * 3600 * 1000000);  // a safra later
  EXPECT_EQ(host.request("GET", "/clock").body["now_micros"], 1767225600000000LL + 90LL * 24 * 3600 * 1000000);
}

TEST_F(PackTest, RawBodiesInAndOut) {
  auto csv = host.request("GET", "/report.csv");
  ASSERT_TRUE(csv.bytes.has_value());
  EXPECT_EQ(*csv.bytes, "farm;hectares\r\nSanta Rita;120,5\r\n");
  EXPECT_EQ(csv.headers["Content-Type"], "text/csv; charset=utf-8");

  auto imported = host.request_raw("POST", "/farms/import", "name;hectares\nBoa Vista;12,5\nSanta Rita;120\n", "text/csv");
  EXPECT_EQ(imported.body["imported"], 2);
  EXPECT_EQ(imported.body["farms"][0], (Json{{"name", "Boa Vista"}, {"hectares", 12.5}}));
  // The fake refuses what the kernel would: a raw body on a route that declares none.
  EXPECT_THROW(host.request_raw("GET", "/clock", "x", "text/plain"), nucleo::sdk::Error);
}

TEST_F(PackTest, TheValidatorKnowsWhoWrites) {
  Json large{{"action", "deal.created"}, {"before", nullptr}, {"after", {{"amount", 2000000}}}};
  host.role = "sales";
  auto reasons = host.validate("deal", large);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0]["field"], "amount");
  EXPECT_NE(reasons[0]["message"].get<std::string>().find("(you are sales)"), std::string::npos);
  host.role = "manager";
  EXPECT_TRUE(host.validate("deal", large).empty());
  host.role = "sales";
  EXPECT_TRUE(host.validate("deal", {{"action", "deal.created"}, {"after", {{"amount", 500}}}}).empty());
}

TEST_F(PackTest, TheEventHandlerRecordsWhoCausedTheEvent) {
  host.services["records.create"] = [](const Json&) { return Json{{"id", "task_1"}}; };
  host.actor = {{"type", "plugin"}, {"id", "org.nucleo.fixtures.pack"}};
  host.role = "";
  host.user_id = "";
  auto failures = host.publish({{"id", "evt_1"},
                                {"name", "deal.created"},
                                {"actor", {{"type", "key"}, {"id", "key_9"}}},
                                {"entity", {{"type", "deal"}, {"id", "deal_1"}}}});
  EXPECT_TRUE(failures.empty());
  auto trail = host.request("GET", "/trail/deal_1").body;
  EXPECT_EQ(trail["handler"]["actor_type"], "plugin");
  EXPECT_EQ(trail["caused_by"]["id"], "key_9");
  EXPECT_EQ(trail["seen_at"], host.now_micros);
  EXPECT_EQ(host.records["trail"]["deal_1"]["version"], 1);
  EXPECT_EQ(trail["task_id"], "task_1");
  ASSERT_EQ(host.service_calls.size(), 1u);
  EXPECT_EQ(host.service_calls[0].request["idempotency_key"], "follow-up:evt_1");
}

TEST_F(PackTest, TenantSettingsWithTheManifestsDefaults) {
  EXPECT_EQ(host.request("GET", "/region").body, (Json{{"region", "sul"}, {"token_length", 0}}));
  host.settings = {{"region", "norte"}};
  host.secrets = {{"api_token", "s3cr3t"}};
  EXPECT_EQ(host.request("GET", "/region").body, (Json{{"region", "norte"}, {"token_length", 6}}));
}

TEST_F(PackTest, VisitsFeedTheBriefingSection) {
  host.request("POST", "/visits", {{"account_id", "acc_1"}, {"notes", "talhão 3"}});
  host.advance(1000);
  host.request("POST", "/visits", {{"account_id", "acc_1"}});
  host.request("POST", "/visits", {{"account_id", "acc_2"}});
  host.settings = {{"region", "norte"}};
  auto sections = host.briefing({{"id", "acc_1"}, {"legal_name", "Fazenda Boa Vista"}});
  EXPECT_EQ(sections["org.nucleo.fixtures.pack.agro"], (Json{{"visits", 2}, {"region", "norte"}}));
  EXPECT_EQ(sections["org.nucleo.fixtures.pack.car"], (Json{{"error", "no CAR registry configured"}}));
}

TEST_F(PackTest, TheCarSectionAsksTheRegistryOverHttp) {
  host.settings = {{"registry_url", "https://car.example.gov.br/status"}};
  host.http = [](const Json&) {
    return Json{{"status", 200}, {"headers", Json::object()}, {"body", R"({"situation": "active"})"}};
  };
  auto sections = host.briefing({{"id", "acc_1"}});
  EXPECT_EQ(sections["org.nucleo.fixtures.pack.car"], (Json{{"situation", "active"}}));
  ASSERT_EQ(host.http_requests.size(), 1u);
  EXPECT_EQ(host.http_requests[0]["url"], "https://car.example.gov.br/status?account=acc_1");
}

TEST_F(PackTest, TheDigestRunsOnEachTenantsClockAndCountsVisits) {
  EXPECT_EQ(host.job_spec("digest"),
            (Json{{"name", "digest"}, {"schedule", "cron 0 7 * * *"}, {"scope", "tenant"}, {"time_zone", "tenant"}}));
  host.request("POST", "/visits", {{"account_id", "acc_1"}});
  host.run_job("digest");
  EXPECT_EQ(host.gauges["visits"], 1);
}

// What the manifest declares personal, erased as the kernel would: the decision stays.
TEST_F(PackTest, AKycDecisionOutlivesTheErasureOfWhoseItIs) {
  host.records["kyc_reviews"]["kyc_1"] = {{"collection", "kyc_reviews"}, {"id", "kyc_1"}, {"version", 1},
                                          {"document", {{"contact_id", "con_1"}, {"decision", "approved"},
                                                        {"full_name", "Joana Prado"}, {"document_number", "RG-4471"}}}};
  host.records["opt_ins"]["opt_1"] = {{"collection", "opt_ins"}, {"id", "opt_1"}, {"version", 1},
                                      {"document", {{"contact_id", "con_1"}, {"phone", "+5565999990001"}}}};
  host.records["opt_ins"]["opt_2"] = {{"collection", "opt_ins"}, {"id", "opt_2"}, {"version", 1},
                                      {"document", {{"contact_id", "con_2"}, {"phone", "+5565999990002"}}}};
  EXPECT_EQ(host.request("GET", "/kyc-status/con_1").body["reviewed_as"], "Joana Prado");

  EXPECT_EQ(host.erase_subject("con_1"), (Json{{"deleted", 1}, {"redacted", 1}}));
  auto status = host.request("GET", "/kyc-status/con_1");
  ASSERT_EQ(status.status, 200) << status.body.dump();
  EXPECT_EQ(status.body["decision"], "approved");
  EXPECT_TRUE(status.body["reviewed_as"].is_null());
  EXPECT_EQ(host.records["kyc_reviews"]["kyc_1"]["version"], 2);
  EXPECT_EQ(host.records["opt_ins"].count("opt_1"), 0u);
  EXPECT_EQ(host.records["opt_ins"].count("opt_2"), 1u);  // another person's stays
  EXPECT_THROW(host.request("GET", "/kyc-status/con_9"), nucleo::sdk::Error);  // not found: the kernel answers 404
}

TEST_F(PackTest, OfTwoWritersExpectingOneVersionOneWins) {
  EXPECT_EQ(host.request("PUT", "/farms/f1", {{"name", "Santa Rita"}}).body["version"], 1);
  try {
    host.request("PUT", "/farms/f1", {{"name", "Santa Rita again"}});  // create-only: it exists
    FAIL() << "created twice";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_CONFLICT);
  }
  EXPECT_EQ(host.request("PUT", "/farms/f1", {{"name", "Santa Rita II"}}, {{"if-match", "1"}}).body["version"], 2);
  try {
    host.request("PUT", "/farms/f1", {{"name", "stale"}}, {{"if-match", "1"}});
    FAIL() << "a stale write won";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_CONFLICT);
  }
  EXPECT_EQ(host.records["farms"]["f1"]["document"]["name"], "Santa Rita II");
}

}  // namespace

namespace {

// ABI 1.6: the CAR registry import format, driven a few bytes at a time as the kernel
// drives it; lines cross chunks, the last one has no line break.
TEST_F(PackTest, TheCarRegistryFormatTurnsLinesIntoAccountsAndFarms) {
  EXPECT_EQ(host.import_format("car_registry")["mapping"]["entity"], "account");
  std::string file =
      "CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA\r\n"
      "MT-5107925-AAAA;11.222.333/0001-81;Agro Sul Ltda;Sorriso;1200,5\r\n"
      "\r\n"
      "MT-5107925-BBBB;só três;campos\r\n"
      "MT-5107925-CCCC;529.982.247-25;Maria Souza;Sinop;80";
  Json rows = host.import_file("car_registry", file);
  ASSERT_EQ(rows.size(), 5u) << rows.dump();
  EXPECT_EQ(rows[0], Json({{"line", 2}, {"fields", {{"producer", "Agro Sul Ltda"}, {"tax_id", "11.222.333/0001-81"},
                                                     {"car", "MT-5107925-AAAA"}}}}));
  EXPECT_EQ(rows[1]["record"]["collection"], "farms");
  EXPECT_EQ(rows[1]["record"]["document"]["hectares"], "1200,5");
  EXPECT_EQ(rows[2], Json({{"line", 4}, {"error", "expected 5 fields separated by ';', found 3"}}));
  EXPECT_EQ(rows[3]["line"], 5);
  EXPECT_EQ(rows[3]["fields"]["producer"], "Maria Souza");
  EXPECT_EQ(rows[4]["record"]["id"], "MT-5107925-CCCC");
  // One chunk or many: the same rows.
  EXPECT_EQ(host.import_file("car_registry", file, 1 << 20), rows);
  try {
    host.import_file("car_registry", "Nome;E-mail\nAna;ana@x.com\n");
    ADD_FAILURE() << "a file that is not the registry's was read";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a CAR registry export"), std::string::npos) << e.what();
  }
}

}  // namespace
