// Issue #28: the agro pack (verticals/agro) loaded into a real server on both backends:
// a ZARC extract through the import, farms and fields as resources, the documented
// planting window (soybean in Mato Grosso, 7 Sep 2024 – 7 Jan 2025) and second-crop corn
// after soybean, barter deals, the alerts' tasks and timeline, the producer's seasons,
// briefing and the demo. Unit tests: tests/unit/verticals/agro_test.cpp.
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "tests/e2e/pack_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.agro";
const std::string sorriso = "5107925";

class Agro : public PackFixture {
 protected:
  Agro() : PackFixture("agro", AGRO_PLUGIN_DIR) {}
  // A producer in Sorriso (MT) with a farm registered in the CAR and one 120.5 ha field.
  struct Producer {
    std::string account, farm, field;
  };
  Producer producer_in_sorriso(const std::string& name, const std::string& cpf, const std::string& owner) {
    Producer p;
    p.account = create("/v1/accounts", {{"legal_name", name}, {"tax_id", cpf}, {"owner_id", owner},
                                        {"attributes", {{"agro.producer_kind", "producer"}}}});
    p.farm = create(pack + "/farms", {{"account_id", p.account}, {"name", "Fazenda Boa Safra"}, {"municipality_ibge", sorriso},
                                      {"car", "MT-5107925-0A1B2C3D4E5F60718293A4B5C6D7E8F9"}, {"area_ha", 480}});
    p.field = create(pack + "/fields", {{"farm_id", p.farm}, {"account_id", p.account}, {"name", "Talhão 3"},
                                        {"area_ha", 120.5}, {"soil", "2"}});
    return p;
  }
};

TEST_P(Agro, TheZarcTableGivesTheDocumentedWindowAndSafrinhaFollowsSoybean) {
  auto queued = upload_import(fixture("zarc_2024_25.csv"), {{"format", "zarc"}}, "", "zarc_2024_25.csv");
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json done = finished_import(queued.body["id"]);
  ASSERT_EQ(done["status"], "done") << done;
  EXPECT_EQ(done["progress"]["created"], 72);
  EXPECT_EQ(done["progress"]["failed"], 0);

  // The Ministry's sowing calendar for soybean in Mato Grosso, kept by a manager.
  EXPECT_EQ(call("POST", pack + "/sowing_calendars", user_key(h->tenant, "sales"),
                 {{"crop", "soja"}, {"uf", "MT"}, {"safra", "2024/25"}, {"start", "2024-09-07"}, {"end", "2025-01-07"},
                  {"act", "Portaria MAPA nº 1.111"}}).status,
            403);
  create(pack + "/sowing_calendars", {{"crop", "soja"}, {"uf", "MT"}, {"safra", "2024/25"}, {"start", "2024-09-07"},
                                      {"end", "2025-01-07"}, {"act", "Portaria MAPA nº 1.111"}},
         manager);
  std::string rep, sales = user_key(h->tenant, "sales", &rep);
  auto window = call("GET", pack + "/planting-windows?crop=soja&municipality=" + sorriso + "&safra=2024/25", sales);
  ASSERT_EQ(window.status, 200) << window.raw.body;
  ASSERT_EQ(window.body["windows"].size(), 1u) << window.body;
  EXPECT_EQ(window.body["windows"][0]["start"], "2024-09-07");
  EXPECT_EQ(window.body["windows"][0]["end"], "2025-01-07");
  EXPECT_EQ(window.body["uf"], "MT");
  EXPECT_EQ(call("GET", pack + "/planting-windows?crop=soja&municipality=123", sales).status, 422);
  auto calendar = call("GET", pack + "/calendar?on=2025-01-15", sales);
  EXPECT_EQ(calendar.body["safra"], "2024/25") << calendar.raw.body;
  EXPECT_EQ(calendar.body["decendio"], 2);

  Producer p = producer_in_sorriso("Sebastião Ferreira", "529.982.247-25", rep);
  // A rep sees the producers she owns (or nobody does): another rep's are 404 to her.
  EXPECT_EQ(call("GET", pack + "/planting-windows?crop=soja&municipality=" + sorriso, user_key(h->tenant, "sales")).status, 200);
  EXPECT_EQ(call("GET", pack + "/producers/" + p.account + "/seasons", user_key(h->tenant, "sales")).status, 404);
  auto soy = call("POST", pack + "/fields/" + p.field + "/crop-plans", sales,
                  {{"crop", "soja"}, {"planting_date", "2024-09-20"}, {"cycle_days", 110}});
  ASSERT_EQ(soy.status, 201) << soy.raw.body;
  EXPECT_EQ(soy.body["expected_harvest"], "2025-01-08");
  EXPECT_EQ(soy.body["zarc"]["status"], "recommended");
  auto early_corn = call("POST", pack + "/fields/" + p.field + "/crop-plans", sales,
                         {{"crop", "Milho 2ª safra"}, {"planting_date", "2025-01-05"}, {"cycle_days", 150}});
  EXPECT_EQ(early_corn.status, 422);
  EXPECT_NE(early_corn.raw.body.find("is harvested on 2025-01-08"), std::string::npos) << early_corn.raw.body;
  auto corn = call("POST", pack + "/fields/" + p.field + "/crop-plans", sales,
                   {{"crop", "Milho 2ª safra"}, {"planting_date", "2025-01-15"}, {"cycle_days", 150}});
  ASSERT_EQ(corn.status, 201) << corn.raw.body;
  EXPECT_EQ(corn.body["season"], "second");
  EXPECT_EQ(corn.body["safra"], "2024/25");
  EXPECT_EQ(corn.body["zarc"]["risk"], 20);
  EXPECT_EQ(call("POST", pack + "/fields/" + p.field + "/crop-plans", sales, {{"crop", "soja"}, {"cycle_days", 110}}).status, 422);
  EXPECT_EQ(call("POST", pack + "/fields/" + p.field + "/crop-plans", user_key(h->tenant, "support"),
                 {{"crop", "soja"}, {"planting_date", "2025-10-01"}, {"cycle_days", 110}}).status,
            403);

  auto plans = call("GET", pack + "/producers/" + p.account + "/crop-plans?safra=2024/25", auditor);
  ASSERT_EQ(plans.status, 200) << plans.raw.body;
  ASSERT_EQ(plans.body["data"].size(), 2u);
  EXPECT_EQ(plans.body["data"][1]["crop"], "milho");
  // Every plan's write is on the audit trail, attributed to the rep.
  Json audited = until("/v1/audit/events?limit=200&action=plugin_record.created", [&](const Json& page) {
    return page.dump().find("crop_plans/" + corn.body["id"].get<std::string>()) != std::string::npos;
  });
  EXPECT_NE(audited.dump().find("2025-06-14"), std::string::npos);

  // Another tenant sees none of it.
  std::string other = h->create_tenant("Outra");
  std::string stranger = user_key(other, "admin");
  EXPECT_EQ(call("GET", pack + "/crop-plans/" + soy.body["id"].get<std::string>(), stranger).status, 404);
  EXPECT_EQ(call("GET", pack + "/fields/" + p.field, stranger).status, 404);
  EXPECT_EQ(call("POST", pack + "/fields/" + p.field + "/crop-plans", stranger,
                 {{"crop", "soja"}, {"planting_date", "2025-10-01"}, {"cycle_days", 110}}).status,
            404);

  // A file that is not a ZARC table fails whole, saying why; bad lines are reported one by one.
  Json refused = finished_import(upload_import("Nome_cultura;UF\nSoja;MT\n", {{"format", "zarc"}}, "", "x.csv").body["id"]);
  EXPECT_EQ(refused["status"], "failed");
  EXPECT_NE(refused.dump().find("not a ZARC risk table"), std::string::npos) << refused;
  std::string text = fixture("zarc_2024_25.csv");
  std::size_t header_end = text.find('\n') + 1, first_row_end = text.find('\n', header_end) + 1;
  std::string bad = text.substr(0, header_end) + "Soja;2024;2025;5107925;GO;Sorriso;1;1;P";
  for (int d = 1; d <= 36; ++d) bad += ";0";
  bad += "\r\n" + text.substr(header_end, first_row_end - header_end);
  Json partial = finished_import(upload_import(bad, {{"format", "zarc"}}, "", "y.csv").body["id"]);
  EXPECT_EQ(partial["progress"]["failed"], 1) << partial;
  EXPECT_EQ(partial["progress"]["updated"], 1) << partial;  // the good line, imported before
  auto errors = call_raw("GET", "/v1/imports/" + partial["id"].get<std::string>() + "/errors", admin, "");
  EXPECT_NE(errors.raw.body.find("not the state of municipality 5107925"), std::string::npos) << errors.raw.body;
}

TEST_P(Agro, RepsAreToldBeforePlantingAndBeforeHarvestOnTheProducersTimeline) {
  std::string rep, rep_key = user_key(h->tenant, "sales", &rep);
  Producer p = producer_in_sorriso("Irmãos Zanatta", "111.444.777-35", rep);
  std::string second_field = create(pack + "/fields", {{"farm_id", p.farm}, {"account_id", p.account}, {"name", "Talhão 4"},
                                                       {"area_ha", 80}});
  // Harvest in five days; a planting in twenty (no ZARC table for it: the date itself opens).
  ASSERT_EQ(call("POST", pack + "/fields/" + p.field + "/crop-plans", rep_key,
                 {{"crop", "soja"}, {"planting_date", day(-100)}, {"cycle_days", 105}, {"status", "planted"}}).status,
            201);
  ASSERT_EQ(call("POST", pack + "/fields/" + second_field + "/crop-plans", rep_key,
                 {{"crop", "feijão"}, {"planting_date", day(20)}, {"cycle_days", 90}}).status,
            201);
  EXPECT_EQ(call("POST", pack + "/season-alerts/run", rep_key).status, 403);
  auto ran = call("POST", pack + "/season-alerts/run", manager);
  ASSERT_EQ(ran.status, 200) << ran.raw.body;
  EXPECT_EQ(ran.body["planting_alerts"], 1);
  EXPECT_EQ(ran.body["harvest_alerts"], 1);
  EXPECT_EQ(call("POST", pack + "/season-alerts/run", manager).body["harvest_alerts"], 0);  // once

  Json tasks = call("GET", "/v1/tasks?account_id=" + p.account, rep_key).body;
  ASSERT_EQ(tasks["data"].size(), 2u) << tasks;
  std::string titles = tasks.dump();
  EXPECT_NE(titles.find("Colheita de soja prevista para " + day(5)), std::string::npos) << titles;
  EXPECT_NE(titles.find("Janela de plantio de feijao abre em " + day(20)), std::string::npos) << titles;
  EXPECT_EQ(tasks["data"][0]["assignee_id"], rep);

  Json timeline = call("GET", "/v1/accounts/" + p.account + "/timeline?limit=50", rep_key).body;
  std::string kinds = timeline.dump();
  EXPECT_NE(kinds.find("org.nucleo.agro.season_alerts"), std::string::npos) << kinds.substr(0, 600);
  EXPECT_NE(kinds.find("org.nucleo.agro.crop_plans"), std::string::npos);

  auto briefing = call("GET", "/v1/accounts/" + p.account + "/briefing", rep_key);
  ASSERT_EQ(briefing.status, 200) << briefing.raw.body;
  const Json& section = briefing.body["sections"]["org.nucleo.agro.producer"];
  EXPECT_EQ(section["data"]["farms"], 1) << section;
}

TEST_P(Agro, BarterDealsAreWorthTheirSacasAndShowInTheProducersSeasons) {
  std::string rep;
  user_key(h->tenant, "sales", &rep);
  Producer p = producer_in_sorriso("Agropecuária Três Irmãos Ltda", "11.222.333/0001-81", rep);
  std::string pipeline = create("/v1/pipelines", {{"name", "Insumos"}});
  std::string open = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Pedido"}, {"key", "pedido"}, {"position", 1}});
  std::string won = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Entregue"}, {"key", "ganho"}, {"position", 2},
                                          {"kind", "won"}});
  Json barter{{"agro.barter_commodity", "soja"}, {"agro.barter_sacas", 2500}, {"agro.barter_price_per_saca", 12850},
              {"agro.safra", "2024/25"}};
  auto wrong = call("POST", "/v1/deals", admin, {{"name", "Pacote de insumos"}, {"account_id", p.account}, {"pipeline_id", pipeline},
                                                 {"stage_id", open}, {"amount", 30000000}, {"attributes", barter}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.raw.body.find("32125000"), std::string::npos) << wrong.raw.body;
  std::string deal = create("/v1/deals", {{"name", "Pacote de insumos"}, {"account_id", p.account}, {"pipeline_id", pipeline},
                                          {"stage_id", open}, {"amount", 32125000}, {"attributes", barter}});
  ASSERT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", won}}).status, 200);
  ASSERT_EQ(call("POST", pack + "/fields/" + p.field + "/crop-plans", admin,
                 {{"crop", "soja"}, {"planting_date", "2024-10-01"}, {"cycle_days", 115}, {"area_ha", 100.25}}).status,
            201);
  auto seasons = call("GET", pack + "/producers/" + p.account + "/seasons", manager);
  ASSERT_EQ(seasons.status, 200) << seasons.raw.body;
  ASSERT_EQ(seasons.body["seasons"].size(), 1u) << seasons.body;
  const Json& safra = seasons.body["seasons"][0];
  EXPECT_EQ(safra["safra"], "2024/25");
  EXPECT_EQ(safra["area_ha"], 100.25);
  EXPECT_EQ(safra["purchases"]["amount"], 32125000);
  EXPECT_EQ(safra["purchases"]["barter_sacas"], 2500);
  EXPECT_EQ(seasons.body["fields_area_ha"], 120.5);
}

TEST_P(Agro, TheVerticalDemoSeedsProducersFarmsAndPlans) {
  auto demo = PackFixture::demo();
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  Json shown = Json::parse(demo.out);
  EXPECT_GT(shown["counts"].value("org.nucleo.agro farms", 0), 4) << shown;
  EXPECT_GT(shown["counts"].value("org.nucleo.agro crop_plans", 0), 16);
  std::string key = shown["admin_key"];
  Json farms = call("GET", pack + "/farms?limit=1", key).body;
  ASSERT_EQ(farms["data"].size(), 1u) << farms;
  auto seasons = call("GET", pack + "/producers/" + farms["data"][0]["account_id"].get<std::string>() + "/seasons", key);
  ASSERT_EQ(seasons.status, 200) << seasons.raw.body;
  EXPECT_EQ(seasons.body["seasons"].size(), 2u) << seasons.body;  // last safra and this one
}

INSTANTIATE_TEST_SUITE_P(Backends, Agro, testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
