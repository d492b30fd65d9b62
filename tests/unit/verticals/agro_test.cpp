// The agro pack (verticals/agro) on the SDK's fake host: the safra and decêndio of a
// date, ZARC tables through the import, planting windows cut by a sowing calendar (the
// documented case: soybean in Mato Grosso, 7 Sep 2024 – 7 Jan 2025), crop plans with
// second-crop corn after soybean, CAR codes, barter deals, season alerts and the
// season-over-season view. tests/e2e/agro_test.cpp loads it into a real server.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nucleo/sdk/testing/fake_host.hpp>

#include "tests/unit/verticals/fixture.hpp"

#include "common/dates.hpp"
#include "seasons.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::agro {
namespace {

using nucleo::sdk::testing::FakeHost;

using verticals::testing::fixture;

const std::string producer = "acc_01m81dx24qexfr0yymkppg515k";
const std::string farm = "farm_01m81dx24qexfr0yymkppg515k";
const std::string field = "tlh_01m81dx24qexfr0yymkppg515k";
const std::string sorriso = "5107925";
const std::string car = "MT-5107925-0A1B2C3D4E5F60718293A4B5C6D7E8F9";

std::int64_t micros_of_day(const std::string& date) {
  return static_cast<std::int64_t>(verticals::day_number(date)) * 86'400'000'000LL + 12LL * 3600 * 1'000'000;
}

TEST(Seasons, ASafraRunsFromJulyToJuneAndAYearHasThirtySixDecendios) {
  EXPECT_EQ(safra_of("2024-09-07"), "2024/25");
  EXPECT_EQ(safra_of("2025-01-15"), "2024/25");  // the safrinha sown after the soybean: the same safra
  EXPECT_EQ(safra_of("2025-06-30"), "2024/25");
  EXPECT_EQ(safra_of("2025-07-01"), "2025/26");
  EXPECT_EQ(safra_of("1999-12-31"), "1999/00");
  EXPECT_EQ(safra_span("2024/25").start, "2024-07-01");
  EXPECT_EQ(safra_span("2024/25").end, "2025-06-30");
  EXPECT_THROW(safra_span("2024/26"), std::invalid_argument);
  EXPECT_THROW(safra_span("2024-25"), std::invalid_argument);

  EXPECT_EQ(decendio_of("2025-01-01"), 1);
  EXPECT_EQ(decendio_of("2025-01-10"), 1);
  EXPECT_EQ(decendio_of("2025-01-11"), 2);
  EXPECT_EQ(decendio_of("2025-01-31"), 3);
  EXPECT_EQ(decendio_of("2024-02-29"), 6);
  EXPECT_EQ(decendio_of("2024-09-07"), 25);
  EXPECT_EQ(decendio_of("2024-12-31"), 36);
  EXPECT_EQ(decendio_span(2024, 6).end, "2024-02-29");  // a leap year's last February decêndio
  EXPECT_EQ(decendio_span(2025, 6).end, "2025-02-28");
  EXPECT_EQ(decendio_span(2025, 25).start, "2025-09-01");
  EXPECT_EQ(decendio_span(2025, 35).end, "2025-12-20");
  EXPECT_THROW(decendio_span(2025, 37), std::invalid_argument);
  EXPECT_EQ(expected_harvest("2024-09-20", 110), "2025-01-08");
}

TEST(Seasons, CropNamesAndCarCodesAreReadAsTheRegistriesWriteThem) {
  EXPECT_EQ(crop_key("Soja").key, "soja");
  EXPECT_EQ(crop_key("Milho 2ª safra").key, "milho");
  EXPECT_EQ(crop_key("Milho 2ª safra").season, "second");
  EXPECT_EQ(crop_key("milho safrinha").season, "second");
  EXPECT_EQ(crop_key("Feijão caupi").key, "feijao_caupi");
  EXPECT_EQ(crop_key("Feijão caupi").season, "first");

  EXPECT_EQ(uf_of_municipality(sorriso), "MT");
  EXPECT_EQ(uf_of_municipality("4104808"), "PR");
  EXPECT_EQ(uf_of_municipality("9904808"), "");
  EXPECT_EQ(car_problem(car, sorriso), "");
  EXPECT_EQ(car_problem("MT-5107925-0A1B.2C3D.4E5F.6071.8293.A4B5.C6D7.E8F9", sorriso), "");  // as SICAR prints it
  EXPECT_NE(car_problem("MT-5107925-0A1B", sorriso).find("not a SICAR code"), std::string::npos);
  EXPECT_NE(car_problem("PR-5107925-0A1B2C3D4E5F60718293A4B5C6D7E8F9", sorriso).find("is in MT"), std::string::npos);
  EXPECT_NE(car_problem(car, "5105259").find("not the farm's 5105259"), std::string::npos);
}

class AgroPack : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/verticals/agro/plugin.json"));
    host.load(&nucleo_plugin_entry);
    host.services["records.get"] = [](const Json& r) {
      if (r["id"] != producer) throw sdk::Error(NUCLEO_NOT_FOUND, "no " + r["id"].get<std::string>());
      return Json{{"id", producer}, {"legal_name", "Fazendas Vale Verde"}, {"owner_id", "usr_rep"}};
    };
    host.services["records.search"] = [this](const Json&) { return Json{{"data", won_deals}, {"next", nullptr}}; };
    host.services["records.create"] = [this](const Json& r) {
      tasks.push_back(r);
      return Json{{"id", "tsk_" + std::to_string(tasks.size())}};
    };
  }
  void write(const Json& rows) {
    for (const auto& row : rows)
      if (row.contains("record")) put(row["record"]["collection"], row["record"]["id"], row["record"]["document"]);
  }
  void put(const std::string& collection, const std::string& id, const Json& document) {
    host.records[collection][id] = {{"collection", collection}, {"id", id}, {"version", 1},
                                    {"document", document}, {"created_at", "x"}, {"updated_at", "x"}};
  }
  void a_field_in_sorriso(const std::string& soil = "2") {
    put("farms", farm, {{"account_id", producer}, {"name", "Fazenda Boa Safra"}, {"car", car}, {"municipality_ibge", sorriso}});
    put("fields", field, {{"farm_id", farm}, {"account_id", producer}, {"name", "Talhão 3"}, {"area_ha", 120.5}, {"soil", soil}});
  }
  void mato_grosso_sowing_calendar() {
    put("sowing_calendars", "cal_mt_soja", {{"crop", "soja"}, {"uf", "MT"}, {"safra", "2024/25"}, {"start", "2024-09-07"},
                                            {"end", "2025-01-07"}, {"act", "Portaria MAPA nº 1.111"}});
  }
  // What a route's refusal says: its status and message (the fake host throws it).
  std::pair<int, std::string> refused(const std::string& method, const std::string& path, const Json& body = Json::object(),
                                      const Json& query = Json::object()) {
    try {
      host.request(method, path, body, Json::object(), query);
    } catch (const sdk::Error& e) {
      return {e.status(), e.what()};
    }
    return {NUCLEO_OK, "answered"};
  }
  FakeHost host;
  Json won_deals = Json::array();
  std::vector<Json> tasks;
};

TEST_F(AgroPack, TheZarcTableIsImportedRowByRowWithItsRisks) {
  Json rows = host.import_file("zarc", fixture("zarc_2024_25.csv"), 4096);
  ASSERT_EQ(rows.size(), 72u);
  for (const auto& r : rows) ASSERT_TRUE(r.contains("record")) << r;
  const Json& soy = rows[0]["record"]["document"];
  EXPECT_EQ(soy["crop"], "soja");
  EXPECT_EQ(soy["season"], "first");
  EXPECT_EQ(soy["safra"], "2024/25");
  EXPECT_EQ(soy["span_start"], "2024-07-01");
  EXPECT_EQ(soy["geocode"], sorriso);
  EXPECT_EQ(soy["risks"].size(), 36u);
  EXPECT_EQ(soy["seen_in"], "imp_test");
  EXPECT_EQ(rows[0]["record"]["id"], "soja.first.2024-2025.5107925.s1.c1");
  const Json& corn = rows[9]["record"]["document"];
  EXPECT_EQ(corn["crop"], "milho");
  EXPECT_EQ(corn["season"], "second");
  EXPECT_EQ(corn["crop_name"], "Milho 2ª safra");
  // The same row gets the same id however the file is cut into chunks.
  EXPECT_EQ(host.import_file("zarc", fixture("zarc_2024_25.csv"), 97)[40], rows[40]);
}

TEST_F(AgroPack, BadZarcLinesAreNamedAndAFileThatIsNotZarcIsRefused) {
  std::string text = fixture("zarc_2024_25.csv");
  std::string header = text.substr(0, text.find('\n') + 1);
  std::string zeros;
  for (int d = 1; d <= 35; ++d) zeros += ";0";
  Json rows = host.import_file("zarc", header + "Soja;2024;2025;5107925;MT;Sorriso;1;1;P;25" + zeros + "\r\n" +
                                           "Soja;2024;2025;5107925;PR;Sorriso;1;1;P;0" + zeros + "\r\n" +
                                           "Soja;2024;2026;5107925;MT;Sorriso;1;1;P;0" + zeros + "\r\n" +
                                           "Soja;2024;2025;5107925;MT;Sorriso;1;1;P\r\n" +
                                           "Feij\xE3o;2024;2025;5107925;MT;Sorriso;1;1;P;20" + zeros + "\r\n");
  ASSERT_EQ(rows.size(), 5u) << rows;
  EXPECT_NE(rows[0]["error"].get<std::string>().find("dec1 is '25'"), std::string::npos) << rows[0];
  EXPECT_NE(rows[1]["error"].get<std::string>().find("not the state of municipality"), std::string::npos) << rows[1];
  EXPECT_NE(rows[2]["error"].get<std::string>().find("SafraFin"), std::string::npos) << rows[2];
  EXPECT_NE(rows[3]["error"].get<std::string>().find("fields; the header has"), std::string::npos) << rows[3];
  // A line in ISO-8859-1 (an older extract) is read as such.
  EXPECT_EQ(rows[4]["record"]["document"]["crop"], "feijao") << rows[4];
  EXPECT_EQ(rows[4]["record"]["document"]["crop_name"], "Feijão");

  EXPECT_THROW(host.import_file("zarc", "Nome_cultura;SafraIni;SafraFin\nSoja;2024;2025\n"), sdk::Error);
  // The header may also be ','-separated.
  std::string commas = header;
  std::replace(commas.begin(), commas.end(), ';', ',');
  std::string comma_zeros = zeros;
  std::replace(comma_zeros.begin(), comma_zeros.end(), ';', ',');
  Json comma_rows = host.import_file("zarc", commas + "Soja,2024,2025,5107925,MT,Sorriso,1,1,P,20" + comma_zeros + "\n");
  ASSERT_EQ(comma_rows.size(), 1u);
  EXPECT_EQ(comma_rows[0]["record"]["document"]["risks"][0], 20) << comma_rows;
}

TEST_F(AgroPack, SoybeanInMatoGrossoIsSownFromSeventhOfSeptemberToSeventhOfJanuary) {
  write(host.import_file("zarc", fixture("zarc_2024_25.csv"), 4096));
  Json query{{"crop", "Soja"}, {"municipality", sorriso}, {"safra", "2024/25"}};
  auto zarc_only = host.request("GET", "/planting-windows", Json::object(), Json::object(), query);
  ASSERT_EQ(zarc_only.status, 200) << zarc_only.body;
  ASSERT_EQ(zarc_only.body["windows"].size(), 1u) << zarc_only.body;
  EXPECT_EQ(zarc_only.body["windows"][0]["start"], "2024-09-01");  // dec25
  EXPECT_EQ(zarc_only.body["windows"][0]["end"], "2025-01-31");    // dec3
  EXPECT_EQ(zarc_only.body["windows"][0]["lowest_risk"], 20);
  EXPECT_EQ(zarc_only.body["zarc_rows"], 9);

  mato_grosso_sowing_calendar();
  auto window = host.request("GET", "/planting-windows", Json::object(), Json::object(), query);
  ASSERT_EQ(window.body["windows"].size(), 1u) << window.body;
  EXPECT_EQ(window.body["windows"][0]["start"], "2024-09-07");
  EXPECT_EQ(window.body["windows"][0]["end"], "2025-01-07");
  EXPECT_EQ(window.body["calendar"]["act"], "Portaria MAPA nº 1.111");

  // At 20 % risk at most, the window is the lowest-risk decêndios: dec27 (21 Sep) to dec34 (10 Dec).
  host.settings = {{"max_zarc_risk", 20}};
  auto safest = host.request("GET", "/planting-windows", Json::object(), Json::object(), query);
  EXPECT_EQ(safest.body["windows"][0]["start"], "2024-09-21");
  EXPECT_EQ(safest.body["windows"][0]["end"], "2024-12-10");
  // On sandy soil with a late cycle, less.
  host.settings = Json::object();
  Json sandy = query;
  sandy["soil"] = "1";
  sandy["cycle"] = "3";
  auto late = host.request("GET", "/planting-windows", Json::object(), Json::object(), sandy);
  EXPECT_EQ(late.body["windows"][0]["start"], "2024-09-11") << late.body;
  EXPECT_EQ(late.body["windows"][0]["end"], "2024-12-31");
  EXPECT_EQ(late.body["zarc_rows"], 1);

  EXPECT_EQ(refused("GET", "/planting-windows", Json::object(), {{"crop", "soja"}}).first, NUCLEO_INVALID_ARGUMENT);
  EXPECT_EQ(refused("GET", "/planting-windows", Json::object(), {{"crop", "soja"}, {"municipality", sorriso}, {"safra", "2024/26"}}).first,
            NUCLEO_INVALID_ARGUMENT);
}

TEST_F(AgroPack, SecondCropCornFollowsTheSoybeanHarvestOnTheSameField) {
  write(host.import_file("zarc", fixture("zarc_2024_25.csv"), 4096));
  mato_grosso_sowing_calendar();
  a_field_in_sorriso();
  host.role = "sales";

  auto corn_first = refused("POST", "/fields/" + field + "/crop-plans",
                            {{"crop", "Milho 2ª safra"}, {"planting_date", "2025-01-15"}, {"cycle_days", 150}});
  EXPECT_EQ(corn_first.first, NUCLEO_INVALID_ARGUMENT);  // no first crop yet
  EXPECT_NE(corn_first.second.find("plan the field's first crop"), std::string::npos) << corn_first.second;

  auto soy = host.request("POST", "/fields/" + field + "/crop-plans",
                          {{"crop", "soja"}, {"planting_date", "2024-09-20"}, {"cycle_days", 110}, {"cycle", "2"}});
  ASSERT_EQ(soy.status, 201) << soy.body;
  EXPECT_EQ(soy.body["safra"], "2024/25");
  EXPECT_EQ(soy.body["expected_harvest"], "2025-01-08");
  EXPECT_EQ(soy.body["area_ha"], 120.5);  // the field's, unless the plan says less
  EXPECT_EQ(soy.body["zarc"]["status"], "recommended");
  EXPECT_EQ(soy.body["zarc"]["risk"], 30);  // dec26 on soil 2
  EXPECT_EQ(soy.body["zarc"]["window_start"], "2024-09-07");
  EXPECT_EQ(soy.body["zarc"]["calendar_act"], "Portaria MAPA nº 1.111");

  auto too_early = refused("POST", "/fields/" + field + "/crop-plans",
                           {{"crop", "Milho 2ª safra"}, {"planting_date", "2025-01-05"}, {"cycle_days", 150}});
  EXPECT_EQ(too_early.first, NUCLEO_INVALID_ARGUMENT);
  EXPECT_NE(too_early.second.find("is harvested on 2025-01-08"), std::string::npos) << too_early.second;

  auto corn = host.request("POST", "/fields/" + field + "/crop-plans",
                           {{"crop", "Milho 2ª safra"}, {"planting_date", "2025-01-15"}, {"cycle_days", 150}});
  ASSERT_EQ(corn.status, 201) << corn.body;
  EXPECT_EQ(corn.body["crop"], "milho");
  EXPECT_EQ(corn.body["season"], "second");
  EXPECT_EQ(corn.body["safra"], "2024/25");
  EXPECT_EQ(corn.body["expected_harvest"], "2025-06-14");
  EXPECT_EQ(corn.body["zarc"]["status"], "recommended");
  EXPECT_EQ(corn.body["zarc"]["risk"], 20);
  EXPECT_EQ(corn.body["zarc"]["window_end"], "2025-02-28");

  auto late_corn = refused("POST", "/fields/" + field + "/crop-plans",
                           {{"crop", "milho safrinha"}, {"planting_date", "2025-03-20"}, {"cycle_days", 140}});
  EXPECT_EQ(late_corn.first, NUCLEO_CONFLICT) << late_corn.second;  // the field has its second crop of milho already

  auto again = host.request("POST", "/fields/" + field + "/crop-plans",
                            {{"crop", "soja"}, {"planting_date", "2025-10-01"}, {"cycle_days", 110}});
  ASSERT_EQ(again.status, 201) << again.body;  // the next safra's soybean
  EXPECT_EQ(again.body["zarc"]["status"], "no_table");  // no table for 2025/26 imported

  EXPECT_EQ(refused("POST", "/fields/tlh_nope/crop-plans", {{"crop", "soja"}, {"planting_date", "2024-10-01"}, {"cycle_days", 100}}).first,
            NUCLEO_NOT_FOUND);
  host.role = "support";
  EXPECT_EQ(refused("POST", "/fields/" + field + "/crop-plans", {{"crop", "soja"}, {"planting_date", "2026-10-01"}, {"cycle_days", 110}}).first,
            NUCLEO_FORBIDDEN);
}

TEST_F(AgroPack, APlantingDateOutsideTheWindowIsKeptWithTheNextOpening) {
  write(host.import_file("zarc", fixture("zarc_2024_25.csv"), 4096));
  mato_grosso_sowing_calendar();
  a_field_in_sorriso();
  host.role = "manager";
  auto early = host.request("POST", "/fields/" + field + "/crop-plans",
                            {{"crop", "soja"}, {"planting_date", "2024-09-03"}, {"cycle_days", 110}});
  ASSERT_EQ(early.status, 201) << early.body;
  EXPECT_EQ(early.body["zarc"]["status"], "outside");  // before the sowing calendar opens
  EXPECT_EQ(early.body["zarc"]["next_window_start"], "2024-09-07");

  // A farm whose CAR names another municipality plans nothing until it is corrected.
  put("farms", farm, {{"account_id", producer}, {"name", "Fazenda Boa Safra"}, {"car", car}, {"municipality_ibge", "5105259"}});
  auto wrong = refused("POST", "/fields/" + field + "/crop-plans", {{"crop", "soja"}, {"planting_date", "2025-10-01"}, {"cycle_days", 110}});
  EXPECT_EQ(wrong.first, NUCLEO_INVALID_ARGUMENT);
  EXPECT_NE(wrong.second.find("not the farm's 5105259"), std::string::npos) << wrong.second;
}

TEST_F(AgroPack, RepsGetATaskBeforeTheWindowOpensAndBeforeTheHarvest) {
  write(host.import_file("zarc", fixture("zarc_2024_25.csv"), 4096));
  mato_grosso_sowing_calendar();
  a_field_in_sorriso();
  host.role = "admin";
  ASSERT_EQ(host.request("POST", "/fields/" + field + "/crop-plans",
                         {{"crop", "soja"}, {"planting_date", "2024-09-20"}, {"cycle_days", 110}}).status,
            201);
  // 20 August: the window opens on 7 September, 18 days away — within the 30 days.
  host.now_micros = micros_of_day("2024-07-20");
  host.role = "sales";
  EXPECT_EQ(refused("POST", "/season-alerts/run").first, NUCLEO_FORBIDDEN);
  host.role = "manager";
  auto far = host.request("POST", "/season-alerts/run");
  EXPECT_EQ(far.body["planting_alerts"], 0) << far.body;  // 49 days away
  host.now_micros = micros_of_day("2024-08-20");
  host.run_job("season-alerts");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["data"]["due_at"], "2024-09-07T12:00:00Z");
  EXPECT_EQ(tasks[0]["data"]["assignee_id"], "usr_rep");
  EXPECT_NE(tasks[0]["data"]["title"].get<std::string>().find("Janela de plantio de soja abre em 2024-09-07"), std::string::npos);
  ASSERT_EQ(host.records["season_alerts"].size(), 1u);
  const Json& alert = host.records["season_alerts"].begin()->second["document"];
  EXPECT_EQ(alert["kind"], "planting_window_opens");
  EXPECT_EQ(alert["days_before"], 18);
  host.run_job("season-alerts");
  EXPECT_EQ(tasks.size(), 1u);  // once per plan

  // Harvest on 8 January: the task comes 15 days before.
  host.now_micros = micros_of_day("2024-12-20");
  EXPECT_EQ(host.request("POST", "/season-alerts/run").body["harvest_alerts"], 0);
  host.now_micros = micros_of_day("2024-12-24");
  EXPECT_EQ(host.request("POST", "/season-alerts/run").body["harvest_alerts"], 1);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_NE(tasks[1]["data"]["title"].get<std::string>().find("Colheita de soja prevista para 2025-01-08"), std::string::npos);
  EXPECT_EQ(tasks[1]["idempotency_key"].get<std::string>().rfind("agro:harvest_expected:", 0), 0u);
  EXPECT_EQ(host.request("POST", "/season-alerts/run").body["harvest_alerts"], 0);
}

TEST_F(AgroPack, ABarterDealIsWorthItsSacasAtThePricePerSaca) {
  auto change = [](Json attributes, Json amount) {
    Json after{{"name", "Insumos safra 24/25"}, {"attributes", attributes}};
    if (!amount.is_null()) after["amount"] = amount;
    return Json{{"action", "create"}, {"entity_type", "deal"}, {"before", nullptr}, {"after", after}};
  };
  EXPECT_TRUE(host.validate("deal", change(Json::object(), 100)).empty());  // not a barter
  Json barter{{"agro.barter_commodity", "soja"}, {"agro.barter_sacas", 2500}, {"agro.barter_price_per_saca", 12850}};
  EXPECT_TRUE(host.validate("deal", change(barter, 32125000)).empty());  // 2,500 × R$ 128,50 = R$ 321.250,00
  Json wrong = host.validate("deal", change(barter, 32000000));
  ASSERT_EQ(wrong.size(), 1u) << wrong;
  EXPECT_EQ(wrong[0]["field"], "amount");
  EXPECT_NE(wrong[0]["message"].get<std::string>().find("32125000"), std::string::npos);
  Json half = host.validate("deal", change({{"agro.barter_sacas", 2500}}, nullptr));
  EXPECT_EQ(half.size(), 2u) << half;  // the commodity and the price are missing
}

TEST_F(AgroPack, AProducersSeasonsSumAreasAndPurchasesPerSafra) {
  a_field_in_sorriso();
  put("crop_plans", "p1", {{"account_id", producer}, {"safra", "2023/24"}, {"crop", "soja"}, {"season", "first"}, {"area_ha", 120.5},
                           {"planting_date", "2023-10-01"}});
  put("crop_plans", "p2", {{"account_id", producer}, {"safra", "2024/25"}, {"crop", "soja"}, {"season", "first"}, {"area_ha", 100.1},
                           {"planting_date", "2024-10-01"}});
  put("crop_plans", "p3", {{"account_id", producer}, {"safra", "2024/25"}, {"crop", "milho"}, {"season", "second"}, {"area_ha", 100.2},
                           {"planting_date", "2025-02-01"}});
  won_deals = {{{"id", "deal_1"}, {"amount", 32125000}, {"stage_entered_at", "2024-08-01T10:00:00Z"},
                {"attributes", {{"agro.barter_sacas", 2500}}}},
               {{"id", "deal_2"}, {"amount", 500000}, {"stage_entered_at", "2024-03-01T10:00:00Z"}, {"attributes", {{"agro.safra", "2024/25"}}}},
               {{"id", "deal_3"}, {"amount", 700000}, {"stage_entered_at", "2024-03-01T10:00:00Z"}}};
  auto view = host.request("GET", "/producers/" + producer + "/seasons");
  ASSERT_EQ(view.status, 200) << view.body;
  const Json& seasons = view.body["seasons"];
  ASSERT_EQ(seasons.size(), 2u) << seasons;
  EXPECT_EQ(seasons[0]["safra"], "2024/25");
  EXPECT_EQ(seasons[0]["area_ha"], 200.3);
  EXPECT_EQ(seasons[0]["second_crop_area_ha"], 100.2);
  EXPECT_EQ(seasons[0]["crops"]["milho"]["plans"], 1);
  EXPECT_EQ(seasons[0]["purchases"]["deals"], 2);
  EXPECT_EQ(seasons[0]["purchases"]["amount"], 32625000);
  EXPECT_EQ(seasons[0]["purchases"]["barter_sacas"], 2500);
  EXPECT_EQ(seasons[1]["safra"], "2023/24");
  EXPECT_EQ(seasons[1]["purchases"]["amount"], 700000);  // won in March 2024: safra 2023/24
  EXPECT_EQ(view.body["farms"], 1);
  EXPECT_EQ(view.body["fields_area_ha"], 120.5);

  Json briefing = host.briefing({{"id", producer}});
  EXPECT_EQ(briefing["org.nucleo.agro.producer"]["farms"], 1) << briefing;
  EXPECT_EQ(refused("GET", "/producers/acc_someone_else/seasons").first, NUCLEO_NOT_FOUND);
}

TEST_F(AgroPack, TheDemoPlansBothCropsOnEveryField) {
  host.services["records.search"] = [](const Json&) {
    Json accounts = Json::array();
    for (int i = 0; i < 7; ++i) accounts.push_back({{"id", producer}, {"legal_name", "P" + std::to_string(i)}});
    return Json{{"data", accounts}, {"next", nullptr}};
  };
  host.services["records.update"] = [](const Json& r) { return Json{{"id", r["id"]}}; };
  host.run_job("demo");
  EXPECT_EQ(host.records["farms"].size(), 5u);  // the first and the seventh are cooperatives
  std::size_t fields = host.records["fields"].size();
  EXPECT_GE(fields, 5u);
  EXPECT_EQ(host.records["crop_plans"].size(), fields * 4);  // soybean and corn, last safra and this one
}

}  // namespace
}  // namespace nucleo::agro
