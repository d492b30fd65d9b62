// The education pack (verticals/education) on the SDK's fake host: the INEP school census
// as an import format, a deal's buying committee (engagement, sentiment, the roles still
// uncovered) and the academic calendar's alerts. tests/e2e/education_test.cpp loads it
// into a real server.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nucleo/sdk/testing/fake_host.hpp>

#include "tests/unit/verticals/fixture.hpp"

#include "committee.hpp"
#include "common/dates.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::education {
namespace {

using nucleo::sdk::testing::FakeHost;

using verticals::testing::fixture;

const std::string school = "acc_01m81dx24qexfr0yymkppg515k";
const std::string deal_id = "deal_01m81dx24qexfr0yymkppg515k";
const std::string ana = "con_01m81dx24qexfr0yymkppg5ana", bruno = "con_01m81dx24qexfr0yymkppg5brn",
                  carla = "con_01m81dx24qexfr0yymkppg5crl";

std::int64_t noon_of(const std::string& date) {
  return static_cast<std::int64_t>(verticals::day_number(date)) * 86'400'000'000LL + 12LL * 3600 * 1'000'000;
}

TEST(Committee, ARoleIsCoveredWhenOneOfItsHoldersWasEngagedInTheStage) {
  std::vector<Json> members{{{"contact_id", ana}, {"role", "sponsor"}, {"engaged_in_stage", true}},
                            {{"contact_id", bruno}, {"role", "technical_evaluator"}, {"engaged_in_stage", false}},
                            {{"contact_id", carla}, {"role", "technical_evaluator"}, {"engaged_in_stage", true}},
                            {{"contact_id", "con_x"}, {"engaged_in_stage", true}}};  // no role: not the committee
  Json coverage = committee_coverage(members, committee_roles());
  EXPECT_EQ(coverage["roles"]["technical_evaluator"]["holders"], 2);
  EXPECT_EQ(coverage["roles"]["technical_evaluator"]["engaged"], 1);
  EXPECT_EQ(coverage["unengaged"], Json({"economic_buyer", "user", "blocker"}));
  EXPECT_EQ(coverage["missing"], Json({"economic_buyer", "user", "blocker"}));
  EXPECT_EQ(coverage["coverage_percent"], 40);
  EXPECT_EQ(committee_coverage({}, {})["coverage_percent"], 100);
}

class EducationPack : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/verticals/education/plugin.json"));
    host.load(&nucleo_plugin_entry);
    host.services["records.get"] = [this](const Json& r) {
      if (r["type"] == "deal") {
        if (r["id"] != deal_id) throw sdk::Error(NUCLEO_NOT_FOUND, "no deal");
        return deal;
      }
      if (r["type"] == "contact") return Json{{"id", r["id"]}, {"name", "Pessoa " + r["id"].get<std::string>().substr(26)}};
      if (r["id"] != school) throw sdk::Error(NUCLEO_NOT_FOUND, "no account");
      return Json{{"id", school}, {"legal_name", "Colégio São Francisco"}, {"owner_id", "usr_rep"}};
    };
    host.services["records.search"] = [this](const Json& r) {
      Json data = Json::array();
      std::string contact = r["query"]["filter_groups"][0]["filters"][0]["value"];
      for (const auto& i : interactions)
        if (i["contact_id"] == contact) data.push_back(i);
      return Json{{"data", data}, {"next", nullptr}};
    };
    host.services["records.create"] = [this](const Json& r) {
      tasks.push_back(r);
      return Json{{"id", "tsk_" + std::to_string(tasks.size())}};
    };
  }
  std::pair<int, std::string> refused(const std::string& method, const std::string& path, const Json& body = Json::object()) {
    try {
      host.request(method, path, body);
    } catch (const sdk::Error& e) {
      return {e.status(), e.what()};
    }
    return {NUCLEO_OK, "answered"};
  }
  FakeHost host;
  Json deal{{"id", deal_id},
            {"account_id", school},
            {"stage_entered_at", "2026-01-10T09:00:00Z"},
            {"contacts", {{{"contact_id", ana}, {"role", "sponsor"}},
                          {{"contact_id", bruno}, {"role", "technical_evaluator"}},
                          {{"contact_id", carla}, {"role", "economic_buyer"}}}}};
  Json interactions = Json::array();
  std::vector<Json> tasks;
};

TEST_F(EducationPack, TheSchoolCensusBecomesRegistryRecordsAndPrivateSchoolsAccounts) {
  Json rows = host.import_file("inep_escolas", fixture("censo_escolar_escolas.csv"), 4096);
  std::size_t records = 0, accounts = 0;
  for (const auto& r : rows) {
    ASSERT_FALSE(r.contains("error")) << r;
    records += r.contains("record");
    accounts += r.contains("fields");
  }
  EXPECT_EQ(records, 40u);
  EXPECT_EQ(accounts, 24u);  // the private schools, by CNPJ
  const Json& first = rows[0]["fields"];
  EXPECT_EQ(first["name"], "COLÉGIO SÃO FRANCISCO DE ASSIS");  // ISO-8859-1 read as such
  EXPECT_EQ(first["cnpj"], "11222333000181");
  EXPECT_EQ(first["inep_code"], "35000001");
  const Json& registry = rows[1]["record"];
  EXPECT_EQ(registry["id"], "35000001");
  EXPECT_EQ(registry["document"]["students"], 1240);
  EXPECT_EQ(registry["document"]["mantenedora_cnpj"], "11444777000161");
  EXPECT_EQ(registry["document"]["seen_in"], "imp_test");
  EXPECT_EQ(rows[2]["record"]["document"]["administration"], "estadual");

  std::string header = fixture("censo_escolar_escolas.csv").substr(0, fixture("censo_escolar_escolas.csv").find('\n') + 1);
  Json bad = host.import_file("inep_escolas", header + "2024;Sul;PR;Curitiba;4106902;ESCOLA X;4100001;4;1;;;10\r\n" +
                                                  "2024;Sul;PR;Curitiba;4106902;ESCOLA X;41000001;7;1;;;10\r\n" +
                                                  "2024;Sul;PR;Curitiba;4106902;ESCOLA X;41000001;4;1;11222333000100;;10\r\n");
  ASSERT_EQ(bad.size(), 3u) << bad;
  EXPECT_NE(bad[0]["error"].get<std::string>().find("CO_ENTIDADE"), std::string::npos);
  EXPECT_NE(bad[1]["error"].get<std::string>().find("TP_DEPENDENCIA"), std::string::npos);
  EXPECT_NE(bad[2]["error"].get<std::string>().find("not a valid CNPJ"), std::string::npos);
  EXPECT_THROW(host.import_file("inep_escolas", "CO_ENTIDADE;NO_ENTIDADE\n1;x\n"), sdk::Error);
}

TEST_F(EducationPack, TheCommitteeShowsWhoWasEngagedSinceTheStageAndWhichRolesAreUncovered) {
  host.now_micros = noon_of("2026-02-01");
  interactions = {{{"id", "int_1"}, {"contact_id", ana}, {"type", "meeting"}, {"occurred_at", "2026-01-20T10:00:00.5Z"},
                   {"deal_id", deal_id}},
                  {{"id", "int_2"}, {"contact_id", bruno}, {"type", "call"}, {"occurred_at", "2025-11-03T10:00:00Z"}},
                  {{"id", "int_3"}, {"contact_id", bruno}, {"type", "note"}, {"occurred_at", "2026-01-25T10:00:00Z"}},
                  {{"id", "int_4"}, {"contact_id", carla}, {"type", "meeting"}, {"occurred_at", "2026-01-22T10:00:00Z"},
                   {"deal_id", "deal_other"}}};
  host.role = "sales";
  ASSERT_EQ(host.request("PUT", "/deals/" + deal_id + "/committee/" + bruno, {{"sentiment", "opposed"}, {"note", "prefere o concorrente"}})
                .status,
            200);
  auto view = host.request("GET", "/deals/" + deal_id + "/committee");
  ASSERT_EQ(view.status, 200);
  const Json& members = view.body["members"];
  ASSERT_EQ(members.size(), 3u) << view.body;
  EXPECT_TRUE(members[0]["engaged_in_stage"].get<bool>());
  EXPECT_TRUE(members[0]["engaged_recently"].get<bool>());
  EXPECT_EQ(members[0]["last_interaction_type"], "meeting");
  EXPECT_FALSE(members[1]["engaged_in_stage"].get<bool>());  // a note is no exchange; the call was before the stage
  EXPECT_FALSE(members[1]["engaged_recently"].get<bool>());  // 90 days ago: past the 60 days
  EXPECT_EQ(members[1]["last_interaction_at"], "2025-11-03T10:00:00Z");
  EXPECT_EQ(members[1]["sentiment"], "opposed");
  EXPECT_FALSE(members[2]["engaged_in_stage"].get<bool>());  // engaged on another deal
  EXPECT_TRUE(members[2]["engaged_recently"].get<bool>());
  EXPECT_EQ(view.body["coverage"]["unengaged"], Json({"economic_buyer", "technical_evaluator", "user", "blocker"}));
  EXPECT_EQ(view.body["coverage"]["missing"], Json({"user", "blocker"}));
  EXPECT_EQ(view.body["opposed"], Json({bruno}));

  EXPECT_EQ(refused("PUT", "/deals/" + deal_id + "/committee/con_stranger", {{"sentiment", "neutral"}}).first, NUCLEO_NOT_FOUND);
  EXPECT_EQ(refused("GET", "/deals/deal_nope/committee").first, NUCLEO_NOT_FOUND);
  host.role = "auditor";
  EXPECT_EQ(refused("PUT", "/deals/" + deal_id + "/committee/" + ana, {{"sentiment", "champion"}}).first, NUCLEO_FORBIDDEN);
}

TEST_F(EducationPack, ATaskComesBeforeEachDecisionWindowOnce) {
  auto window = [&](const std::string& id, const std::string& kind, const std::string& start, Json extra = Json::object()) {
    Json d{{"account_id", school}, {"kind", kind}, {"name", kind}, {"start", start}, {"end", verticals::add_days(start, 30)}};
    d.update(extra);
    host.records["calendar_windows"][id] = {{"collection", "calendar_windows"}, {"id", id}, {"version", 1},
                                            {"document", d}, {"created_at", "x"}, {"updated_at", "x"}};
  };
  window("w_budget", "budget_cycle", "2026-10-01");
  window("w_enrolment", "enrolment", "2027-01-05", {{"alert_days", 60}});
  window("w_past", "term_start", "2026-02-16");
  host.now_micros = noon_of("2026-08-16");  // 46 days before the budget: not yet
  host.role = "manager";
  EXPECT_EQ(host.request("POST", "/calendar-alerts/run").body["tasks_created"], 0);
  host.now_micros = noon_of("2026-08-17");
  host.run_job("calendar-alerts");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["data"]["due_at"], "2026-08-17T12:00:00Z");
  EXPECT_EQ(tasks[0]["data"]["assignee_id"], "usr_rep");
  EXPECT_NE(tasks[0]["data"]["title"].get<std::string>().find("começa em 2026-10-01"), std::string::npos);
  host.now_micros = noon_of("2026-11-06");  // 60 days before enrolment, its own alert days
  EXPECT_EQ(host.request("POST", "/calendar-alerts/run").body["tasks_created"], 1);
  EXPECT_EQ(host.request("POST", "/calendar-alerts/run").body["tasks_created"], 0);  // once
  EXPECT_EQ(tasks.size(), 2u);

  auto upcoming = host.request("GET", "/institutions/" + school + "/calendar", Json::object(), Json::object(), {{"from", "2026-09-01"}});
  ASSERT_EQ(upcoming.body["windows"].size(), 2u) << upcoming.body;
  EXPECT_EQ(upcoming.body["windows"][0]["kind"], "budget_cycle");
  host.role = "sales";
  EXPECT_EQ(refused("POST", "/calendar-alerts/run").first, NUCLEO_FORBIDDEN);
  Json briefing = host.briefing({{"id", school}});
  EXPECT_EQ(briefing["org.nucleo.education.institution"]["next_window"]["kind"], "enrolment") << briefing;
}

TEST_F(EducationPack, TheDemoGivesInstitutionsCampusesProgramsAndCalendars) {
  host.services["records.search"] = [](const Json& r) {
    if (r["type"] == "deal") return Json{{"data", Json::array()}, {"next", nullptr}};
    Json accounts = Json::array();
    for (int i = 0; i < 6; ++i) accounts.push_back({{"id", school + std::to_string(i)}});
    return Json{{"data", accounts}, {"next", nullptr}};
  };
  host.services["records.update"] = [](const Json& r) { return Json{{"id", r["id"]}}; };
  host.run_job("demo");
  EXPECT_GE(host.records["campuses"].size(), 6u);
  EXPECT_GE(host.records["programs"].size(), 12u);
  EXPECT_EQ(host.records["calendar_windows"].size(), 6u * 3 + 2);  // two universities have a board meeting too
}

}  // namespace
}  // namespace nucleo::education
