// The finance pack (verticals/finance) on the SDK's fake host: the CGU's PEP list as an
// import format, screening by CPF digits and folded names, four-eyes KYC decisions and
// the KYC gate on deals. tests/e2e/finance_test.cpp loads it into a real server.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nucleo/sdk/testing/fake_host.hpp>

#include "tests/unit/verticals/fixture.hpp"

#include "pep.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::finance {
namespace {

using nucleo::sdk::testing::FakeHost;

using verticals::testing::fixture;

const std::string account = "acc_01m81dx24qexfr0yymkppg515k";

class FinancePack : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/verticals/finance/plugin.json"));
    host.load(&nucleo_plugin_entry);
    host.services["records.get"] = [](const Json& r) {
      if (r["type"] == "stage") return Json{{"id", r["id"]}, {"pipeline_id", "pipe_1"}, {"position", r["id"] == "stg_late" ? 3 : 1}};
      return Json{{"id", r["id"]}, {"name", "x"}};
    };
    host.services["records.search"] = [this](const Json& r) {
      if (r["type"] == "stage")
        return Json{{"data", {{{"id", "stg_kyc"}, {"key", "kyc"}, {"position", 1}}, {{"id", "stg_late"}, {"key", "proposta"}, {"position", 3}}}},
                    {"next", nullptr}};
      return Json{{"data", contacts}, {"next", nullptr}};
    };
  }
  void write(const Json& rows) {
    for (const auto& row : rows)
      if (row.contains("record")) {
        const Json& r = row["record"];
        host.records[r["collection"]][r["id"]] = {{"collection", r["collection"]}, {"id", r["id"]}, {"version", 1},
                                                  {"document", r["document"]}, {"created_at", "x"}, {"updated_at", "x"}};
      }
  }
  FakeHost host;
  Json contacts = Json::array();
};

TEST_F(FinancePack, TheCguListBecomesEntriesWithTheirGracePeriod) {
  Json rows = host.import_file("cgu_pep", fixture("202511_PEP.csv"), 4096);
  ASSERT_EQ(rows.size(), 3000u);
  for (const auto& r : rows) ASSERT_TRUE(r.contains("record")) << r;
  const Json& maria = rows[0]["record"]["document"];
  EXPECT_EQ(maria["cpf_visible"], "982247");
  EXPECT_EQ(maria["name"], "MARIA DAS GRAÇAS FONSECA");
  EXPECT_EQ(maria["name_folded"], "MARIA DAS GRACAS FONSECA");
  EXPECT_EQ(maria["active_until"], "9999-12-31");  // in office
  EXPECT_EQ(maria["seen_in"], "imp_test");
  EXPECT_EQ(rows[1]["record"]["document"]["active_until"], "2019-12-31");  // the grace period
  // The same exercise of a function keeps its id from one monthly list to the next.
  EXPECT_EQ(rows[0]["record"]["id"], host.import_file("cgu_pep", fixture("202511_PEP.csv"), 999)[0]["record"]["id"]);
}

TEST_F(FinancePack, BadListsAreNamedLineByLineOrRefusedWhole) {
  std::string header = fixture("202511_PEP.csv").substr(0, fixture("202511_PEP.csv").find('\n') + 1);
  Json rows = host.import_file("cgu_pep", header + "\"123.456.789-09\";\"FULANO\";\"\";\"\";\"\";\"\";\"\";\"\";\"\"\r\n"
                                                   "\"***.111.222-**\";\"FULANO\";\"\";\"\";\"\";\"\";\"31/02/2020\";\"\";\"\"\r\n"
                                                   "\"***.111.222-**\";\"JOS\xC3\x89\";\"\";\"\";\"\";\"\";\"\";\"\";\"\"\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("is not masked"), std::string::npos);  // an unmasked CPF
  EXPECT_NE(rows[1]["error"].get<std::string>().find("DATA INICIO EXERCICIO"), std::string::npos);
  EXPECT_NE(rows[2]["error"].get<std::string>().find("UTF-8"), std::string::npos);
  EXPECT_THROW(host.import_file("cgu_pep", "CPF;NOME\n***.111.222-**;X\n"), nucleo::sdk::Error);
}

TEST(PepIndex, ScreensByVisibleDigitsAndFoldedNameWithinTheGracePeriod) {
  PepIndex index;
  index.add({{"id", "p1"}, {"cpf_visible", "982247"}, {"name_folded", "MARIA DAS GRACAS FONSECA"}, {"active_until", "9999-12-31"}});
  index.add({{"id", "p2"}, {"cpf_visible", "444777"}, {"name_folded", "JOAO CARLOS PEREIRA"}, {"active_until", "2019-12-31"}});
  auto hits = index.matches("Maria das Graças  Fonseca", "52998224725", "2026-01-01");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["match"], "cpf_and_name");
  EXPECT_TRUE(index.matches("Maria das Graças Fonseca", "11144477735", "2026-01-01").empty());  // a namesake
  EXPECT_EQ(index.matches("MARIA DAS GRACAS FONSECA", "", "2026-01-01")[0]["match"], "name");  // no CPF: the name alone
  EXPECT_TRUE(index.matches("João Carlos Pereira", "11144477735", "2026-01-01").empty());      // past the grace period
  EXPECT_EQ(index.matches("João Carlos Pereira", "11144477735", "2019-06-01").size(), 1u);     // within it
}

TEST_F(FinancePack, ScreeningRecordsEachHitOnceAndKeepsItsDisposition) {
  host.import_id = "imp_01list";
  write(host.import_file("cgu_pep", fixture("202511_PEP.csv"), 65536));
  contacts = Json::array({{{"id", "con_1"}, {"name", "Maria das Graças Fonseca"}, {"attributes", {{"finance.cpf", "529.982.247-25"}}}},
                          {{"id", "con_2"}, {"name", "Antônio Bezerra Lima"}},
                          {{"id", "con_3"}, {"name", "João Carlos Pereira"}, {"attributes", {{"finance.cpf", "111.444.777-35"}}}}});
  host.run_job("pep-screening");
  ASSERT_EQ(host.records["screening_hits"].size(), 2u);  // Maria (CPF and name), Antônio (name only); João is past grace
  Json run = host.records["screening_runs"]["imp_01list"]["document"];
  EXPECT_EQ(run["contacts"], 3);
  EXPECT_EQ(run["screened_by_name_only"], 1);
  EXPECT_EQ(run["new_hits"], 2);

  host.role = "manager";
  std::string maria = "con_1:" + host.records["pep_list"].begin()->first;
  for (const auto& [id, hit] : host.records["screening_hits"])
    if (hit["document"]["subject_id"] == "con_1") maria = id;
  auto decided = host.request("POST", "/screening/hits/" + maria + "/disposition",
                              {{"disposition", "true_match"}, {"note", "confirmed with the client's documents"}});
  EXPECT_EQ(decided.body["disposition"], "true_match");
  host.run_job("pep-screening", {{"force", true}});  // the same list again
  EXPECT_EQ(host.records["screening_hits"][maria]["document"]["disposition"], "true_match");
  EXPECT_EQ(host.records["screening_hits"].size(), 2u);
  host.role = "sales";
  EXPECT_THROW(host.request("POST", "/screening/hits/" + maria + "/disposition", {{"disposition", "false_positive"}}),
               nucleo::sdk::Error);
}

TEST_F(FinancePack, AKycIsDecidedByFourEyesAndGatesTheDeal) {
  host.settings = {{"kyc_gate_stages", {"kyc"}}};
  host.role = "sales";
  host.user_id = "usr_rep";
  auto prepared = host.request("PUT", "/parties/" + account + "/kyc",
                               {{"risk_rating", "medium"}, {"review_due", "2027-01-01"},
                                {"beneficial_owners", {{{"name", "Ana Souza"}, {"share_percent", 60}}}}});
  EXPECT_EQ(prepared.body["status"], "pending");
  Json move{{"action", "deal.updated"}, {"before", {{"stage_id", "stg_kyc"}, {"account_id", account}}},
            {"after", {{"stage_id", "stg_late"}, {"account_id", account}}}};
  Json refused = host.validate("deal", move);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0]["message"].get<std::string>().find("is pending"), std::string::npos);

  host.role = "manager";  // the preparer may not decide, whatever the role
  host.user_id = "usr_rep";
  EXPECT_THROW(host.request("POST", "/parties/" + account + "/kyc/decision", {{"status", "approved"}}), nucleo::sdk::Error);
  host.user_id = "usr_compliance";
  auto approved = host.request("POST", "/parties/" + account + "/kyc/decision", {{"status", "approved"}, {"note", "ok"}});
  EXPECT_EQ(approved.body["decided_by"], "usr_compliance");
  EXPECT_TRUE(host.validate("deal", move).empty());

  host.advance(400LL * 24 * 3600 * 1000000);  // past the review date
  EXPECT_EQ(host.validate("deal", move).size(), 1u);
  host.run_job("kyc-expiry");
  EXPECT_EQ(host.records["kyc"]["kyc-" + account]["document"]["status"], "expired");
}

TEST_F(FinancePack, SuitabilityBlocksAnAdvanceUnlessTheProfileAdmitsTheRiskOrSheAcknowledgedIt) {
  host.now_micros = 1767225600000000;  // 2026-01-01
  Json investor{{"id", "con_1"}, {"attributes", {{"finance.investor_profile", "moderado"}, {"finance.profile_assessed_on", "2025-06-01"}}}};
  host.services["records.get"] = [&](const Json& r) {
    if (r["type"] == "stage") return Json{{"id", r["id"]}, {"position", r["id"] == "stg_2" ? 2 : 1}};
    return investor;
  };
  auto move = [](const std::string& risk) {
    return Json{{"action", "deal.updated"},
                {"before", {{"stage_id", "stg_1"}}},
                {"after", {{"id", "deal_1"}, {"stage_id", "stg_2"}, {"contacts", {{{"contact_id", "con_1"}, {"role", "investor"}}}},
                           {"attributes", {{"finance.product_risk", risk}}}}}};
  };
  EXPECT_TRUE(host.validate("deal", move("medio")).empty());  // moderado admits medio
  Json refused = host.validate("deal", move("alto"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["field"], "attributes.finance.product_risk");
  host.records["suitability_acks"]["ack_1"] = {{"collection", "suitability_acks"}, {"id", "ack_1"}, {"version", 1},
      {"document", {{"deal_id", "deal_1"}, {"contact_id", "con_1"}, {"product_risk", "alto"}, {"signed_on", "2025-12-20"},
                    {"document_ref", "x"}}}};
  EXPECT_TRUE(host.validate("deal", move("alto")).empty());
  investor["attributes"]["finance.profile_assessed_on"] = "2023-06-01";  // more than 24 months ago
  refused = host.validate("deal", move("medio"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0]["message"].get<std::string>().find("more than 24 months"), std::string::npos);
}

}  // namespace
}  // namespace nucleo::finance
