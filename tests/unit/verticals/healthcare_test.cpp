// The healthcare pack (verticals/healthcare) on the SDK's fake host: the CNES extract as
// an import format (two months of the synthetic registry), renewal alerts, retention
// under legal holds, the FHIR mapping and purchase history. tests/e2e/healthcare_test.cpp
// loads the same library into a real server on both backends.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nucleo/sdk/testing/fake_host.hpp>

#include "tests/unit/verticals/fixture.hpp"

#include "cnes.hpp"
#include "fhir.hpp"
#include "institutions.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::healthcare {
namespace {

using nucleo::sdk::testing::FakeHost;

using verticals::testing::fixture;

class HealthcarePack : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/verticals/healthcare/plugin.json"));
    host.load(&nucleo_plugin_entry);
    // Accounts by tax id, as records.search finds them (the importer's only read of them).
    host.services["records.search"] = [this](const Json& r) {
      Json data = Json::array();
      for (const auto& f : r["query"]["filter_groups"][0]["filters"])
        if (f["field"] == "tax_id" && accounts.count(f["value"])) data.push_back(accounts[f["value"]]);
      return Json{{"data", data}, {"next", nullptr}};
    };
  }
  // What the kernel's import writes of the rows: here, the record store's documents.
  void write(const Json& rows) {
    for (const auto& row : rows)
      if (row.contains("record")) {
        const Json& r = row["record"];
        Json& slot = host.records[r["collection"]][r["id"]];
        int version = slot.is_object() ? slot.value("version", 0) : 0;
        slot = {{"collection", r["collection"]}, {"id", r["id"]}, {"version", version + 1},
                {"document", r["document"]}, {"created_at", "2026-01-01T00:00:00Z"}, {"updated_at", "2026-01-01T00:00:00Z"}};
      }
  }
  static std::size_t count(const Json& rows, const char* kind, const std::string& collection = "") {
    std::size_t n = 0;
    for (const auto& r : rows)
      n += r.contains(kind) && (collection.empty() || r[kind].value("collection", "") == collection);
    return n;
  }
  FakeHost host;
  std::map<std::string, Json> accounts;
};

TEST_F(HealthcarePack, ACnesExtractBecomesAccountsAndEstablishments) {
  Json rows = host.import_file("cnes", fixture("tbEstabelecimento202510.csv"), 4096);
  EXPECT_EQ(count(rows, "error"), 0u) << rows.dump().substr(0, 500);
  EXPECT_EQ(count(rows, "fields"), 56u);  // the establishments with a CNPJ of their own
  EXPECT_EQ(count(rows, "record", "establishments"), 300u);
  EXPECT_EQ(count(rows, "record", "registration_changes"), 0u);  // nothing to compare with yet
  const Json* account = nullptr;
  for (const auto& r : rows)
    if (r.contains("fields") && r["fields"].contains("mantenedora_cnpj")) account = &r["fields"];
  ASSERT_NE(account, nullptr);
  EXPECT_EQ((*account)["cnes"].get<std::string>().size(), 7u);
  EXPECT_TRUE(verticals::valid_cnpj((*account)["mantenedora_cnpj"].get<std::string>()));
  // Latin-1 names arrive as UTF-8.
  bool accented = false;
  for (const auto& r : rows)
    if (r.contains("record") && r["record"]["document"]["legal_name"].get<std::string>().find("SAÚDE") != std::string::npos)
      accented = true;
  EXPECT_TRUE(accented);
}

TEST_F(HealthcarePack, TheNextMonthReportsTheChangedRegistration) {
  host.import_id = "imp_01october";
  write(host.import_file("cnes", fixture("tbEstabelecimento202510.csv"), 4096));
  host.import_id = "imp_02november";
  Json november = host.import_file("cnes", fixture("tbEstabelecimento202511.csv"), 4096);
  ASSERT_EQ(count(november, "record", "registration_changes"), 1u);
  Json change;
  for (const auto& r : november)
    if (r.contains("record") && r["record"]["collection"] == "registration_changes") change = r["record"]["document"];
  EXPECT_EQ(change["import_id"], "imp_02november");
  EXPECT_TRUE(change["changes"].contains("name"));
  EXPECT_EQ(change["changes"]["type_code"], (Json{{"from", "05"}, {"to", "07"}}));
  EXPECT_TRUE(change["changes"].contains("address"));
  EXPECT_FALSE(change["changes"].contains("seen_in"));  // the pack's bookkeeping is no change

  // A resumed import reads its first lines again after writing them: the same rows.
  write(november);
  Json again = host.import_file("cnes", fixture("tbEstabelecimento202511.csv"), 4096);
  EXPECT_EQ(again.size(), november.size());
  EXPECT_EQ(count(again, "record", "registration_changes"), 1u);
}

TEST_F(HealthcarePack, BadLinesAreReportedOneByOne) {
  std::string header = fixture("tbEstabelecimento202510.csv");
  header = header.substr(0, header.find('\n') + 1);
  std::string first_line = fixture("tbEstabelecimento202510.csv").substr(header.size());
  first_line = first_line.substr(0, first_line.find('\n') + 1);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string line = first_line;
    line.replace(line.find(from), from.size(), to);
    return line;
  };
  std::string cnes = first_line.substr(first_line.find(";\"") + 2, 7);
  std::string cnes_field = "\";\"" + cnes + "\";";  // CO_UNIDADE holds the code too: replace the field
  Json rows = host.import_file("cnes", header + with(cnes_field, "\";\"12345\";") + with(cnes_field, cnes_field + "\"x\";") +
                                           with("/2025", "/20x5") + "\"only\";\"three\";\"fields\"\r\n" +
                                           with("HOSPITAL", "HOSPITAL S\xC3\x83O"));
  ASSERT_EQ(rows.size(), 5u) << rows.dump(1).substr(0, 3000);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("CO_CNES '12345' is not a CNES code"), std::string::npos);
  EXPECT_NE(rows[1]["error"].get<std::string>().find("has "), std::string::npos);  // a field too many
  EXPECT_NE(rows[2]["error"].get<std::string>().find("DT_ATUALIZACAO"), std::string::npos);
  EXPECT_NE(rows[3]["error"].get<std::string>().find("has 3 fields"), std::string::npos);
  EXPECT_NE(rows[4]["error"].get<std::string>().find("UTF-8"), std::string::npos);
  EXPECT_EQ(rows[4]["line"], 6);

  // A file that is not the extract is refused whole, naming what it lacks.
  try {
    host.import_file("cnes", "CNES;NOME\n1234567;X\n");
    FAIL() << "a file without the extract's columns was read";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks CO_UNIDADE, CO_CNES"), std::string::npos) << e.what();
  }
}

TEST_F(HealthcarePack, ACnpjWithWrongCheckDigitsIsTheRowsError) {
  std::string extract = fixture("tbEstabelecimento202510.csv");
  std::string header = extract.substr(0, extract.find('\n') + 1);
  Json ok = host.import_file("cnes", extract.substr(0, extract.find('\n', header.size()) + 1));
  ASSERT_EQ(count(ok, "error"), 0u);
  std::string mantenedora = ok.back()["record"]["document"]["mantenedora_cnpj"];
  std::string broken = extract.substr(header.size(), extract.find('\n', header.size()) + 1 - header.size());
  broken.replace(broken.find(mantenedora), 14, mantenedora.substr(0, 13) + (mantenedora[13] == '9' ? "0" : "9"));
  Json rows = host.import_file("cnes", header + broken);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("NU_CNPJ_MANTENEDORA"), std::string::npos);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("check digits"), std::string::npos);
}

TEST_F(HealthcarePack, AUtf8ExtractIsReadWhenTheTenantSaysSo) {
  host.settings = {{"cnes_encoding", "utf-8"}};
  std::string header = fixture("tbEstabelecimento202510.csv");
  header = header.substr(0, header.find('\n') + 1);
  std::string line = "\"1\";\"2345678\";\"11222333000181\";\"3\";\"1\";\"HOSPITAL SÃO JOSÉ\";\"SÃO JOSÉ\"";
  for (int i = 7; i < 56; ++i) line += i == 20 ? ";\"11222333000181\"" : i == 28 ? ";\"05\"" : i == 30 ? ";\"35\"" : i == 31 ? ";\"355030\"" : i == 32 ? ";\"01/02/2025\"" : ";\"\"";
  Json rows = host.import_file("cnes", header + line + "\r\n");
  ASSERT_EQ(count(rows, "error"), 0u) << rows.dump();
  EXPECT_EQ(rows[0]["fields"]["legal_name"], "HOSPITAL SÃO JOSÉ");
}

TEST_F(HealthcarePack, RenewalTasksOncePerContractEnd) {
  host.role = "manager";
  host.now_micros = 1767225600000000;  // 2026-01-01
  std::string account = "acc_01m81dx24qexfr0yymkppg515k";
  host.records["contracts"]["ctr_1"] = {{"collection", "contracts"}, {"id", "ctr_1"}, {"version", 1},
      {"document", {{"account_id", account}, {"number", "12/2024"}, {"object", "Fornecimento de cateteres"},
                    {"start", "2024-03-01"}, {"end", "2026-03-01"}, {"renewal_notice_days", 90}}}};
  host.records["contracts"]["ctr_2"] = {{"collection", "contracts"}, {"id", "ctr_2"}, {"version", 1},
      {"document", {{"account_id", account}, {"number", "40/2025"}, {"object", "Locação de bombas de infusão"},
                    {"start", "2025-06-01"}, {"end", "2026-12-01"}}}};  // the tenant's 90 days: not yet
  int tasks = 0;
  host.services["records.create"] = [&](const Json& r) {
    EXPECT_EQ(r["idempotency_key"], "renewal:ctr_1:2026-03-01");
    EXPECT_EQ(r["data"]["account_id"], account);
    return Json{{"id", "task_" + std::to_string(++tasks)}};
  };
  auto first = host.request("POST", "/contracts/renewal-check");
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["tasks_created"].size(), 1u);
  EXPECT_EQ(host.records["contracts"]["ctr_1"]["document"]["renewal_task_id"], "task_1");
  EXPECT_EQ(host.request("POST", "/contracts/renewal-check").body["tasks_created"].size(), 0u);  // marked: once
  EXPECT_EQ(tasks, 1);

  host.role = "sales";
  EXPECT_THROW(host.request("POST", "/contracts/renewal-check"), nucleo::sdk::Error);
}

TEST_F(HealthcarePack, RetentionDeletesOldClinicalEventsButNotHeldOnes) {
  host.role = "admin";
  host.now_micros = 1767225600000000;  // 2026-01-01; 1825 days back is 2021-01-02
  auto event = [&](const std::string& id, const std::string& on, const std::string& contact) {
    host.records["clinical_events"][id] = {{"collection", "clinical_events"}, {"id", id}, {"version", 1},
        {"document", {{"account_id", "acc_01m81dx24qexfr0yymkppg515k"}, {"occurred_on", on}, {"kind", "adverse_event"},
                      {"description", "reação no local da punção"}, {"contact_id", contact}}}};
  };
  event("cev_old", "2020-05-01", "con_01m81dx24qexfr0yymkppg5aaa");
  event("cev_held", "2020-05-02", "con_01m81dx24qexfr0yymkppg5bbb");
  event("cev_recent", "2024-05-01", "con_01m81dx24qexfr0yymkppg5aaa");
  host.services["privacy.holds"] = [](const Json&) {
    return Json{{"data", Json::array({{{"subject_id", "con_01m81dx24qexfr0yymkppg5bbb"}, {"active", true}}})}};
  };
  auto result = host.request("POST", "/clinical-events/retention");
  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(result.body["cutoff"], "2021-01-02");
  EXPECT_EQ(result.body["deleted"], 1);
  EXPECT_EQ(result.body["kept_under_hold"], 1);
  EXPECT_EQ(host.records["clinical_events"].count("cev_old"), 0u);
  EXPECT_EQ(host.records["clinical_events"].count("cev_held"), 1u);
  EXPECT_EQ(host.records["clinical_events"].count("cev_recent"), 1u);
}

TEST(HealthcareFhir, AnOrganizationCarriesCnesCnpjAndItsMantenedora) {
  Json account{{"id", "acc_01m81dx24qexfr0yymkppg515k"}, {"legal_name", "HOSPITAL SANTA LUZIA LTDA"},
               {"trade_name", "HOSPITAL SANTA LUZIA"}, {"tax_id", "11222333000181"}, {"archived_at", nullptr},
               {"attributes", {{"health.cnes", "2000001"}, {"health.establishment_type", "05"}}}};
  Json org = fhir::organization(account, "acc_01m81dx24qexfr0yymkppg5ppp");
  EXPECT_EQ(org["id"], "acc-01m81dx24qexfr0yymkppg515k");
  EXPECT_EQ(org["identifier"][0], (Json{{"use", "official"}, {"system", fhir::cnes_system}, {"value", "2000001"}}));
  EXPECT_EQ(org["identifier"][1]["system"], fhir::cnpj_system);
  EXPECT_EQ(org["partOf"]["reference"], "Organization/acc-01m81dx24qexfr0yymkppg5ppp");
  EXPECT_EQ(fhir::nucleo_id_of("acc-01m81dx24qexfr0yymkppg515k"), "acc_01m81dx24qexfr0yymkppg515k");
}

TEST(HealthcarePurchases, RecencyFrequencyAndValueAsOfADate) {
  std::vector<Json> orders{{{"ordered_on", "2024-12-20"}, {"value_cents", 100000}},
                           {{"ordered_on", "2025-11-20"}, {"value_cents", 250000}},
                           {{"ordered_on", "2026-02-01"}, {"value_cents", 999}}};  // after as_of: not counted
  Json s = purchase_summary(orders, "2025-12-31");
  EXPECT_EQ(s["orders"], 2);
  EXPECT_EQ(s["value_cents"], 350000);
  EXPECT_EQ(s["last_order_on"], "2025-11-20");
  EXPECT_EQ(s["recency_days"], 41);
  EXPECT_EQ(s["orders_12m"], 1);  // 2024-12-20 is more than 365 days before
  EXPECT_EQ(s["value_cents_12m"], 250000);
  EXPECT_EQ(purchase_summary({}, "2025-12-31")["recency_days"], nullptr);
}

TEST(HealthcareHistory, TimelinesMergeByInstantNotByText) {
  std::vector<Json> a{{{"at", "2026-01-01T10:00:00Z"}, {"id", "a1"}}, {{"at", "2026-01-01T09:00:00Z"}, {"id", "a2"}}};
  std::vector<Json> b{{{"at", "2026-01-01T10:00:00.5Z"}, {"id", "b1"}}};
  auto merged = merge_newest({a, b}, 2);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0]["id"], "b1");  // half a second later, although "10:00:00.5Z" < "10:00:00Z" as text
  EXPECT_EQ(merged[1]["id"], "a1");
}

}  // namespace
}  // namespace nucleo::healthcare
