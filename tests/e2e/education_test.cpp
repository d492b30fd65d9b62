// Issue #28: the education pack (verticals/education) loaded into a real server on both
// backends: the INEP school census through the import, a deal's buying committee beside
// the stage gate that asks for it, sentiments, the academic calendar's alerts, the
// briefing and the demo. Unit tests: tests/unit/verticals/education_test.cpp.
#include <chrono>
#include <ctime>
#include <fstream>

#include "tests/e2e/pack_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.education";

class Education : public PackFixture {
 protected:
  Education() : PackFixture("education", EDUCATION_PLUGIN_DIR) {}
};

TEST_P(Education, TheSchoolCensusMakesAccountsOfPrivateSchoolsAndARegistryOfAll) {
  auto queued = upload_import(fixture("censo_escolar_escolas.csv"), {{"format", "inep_escolas"}}, "", "escolas.csv");
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json done = finished_import(queued.body["id"]);
  ASSERT_EQ(done["status"], "done") << done;
  EXPECT_EQ(done["progress"]["created"], 24 + 40) << done;  // accounts with a CNPJ, and every school
  EXPECT_EQ(done["progress"]["failed"], 0);
  Json found = call("POST", "/v1/accounts/search", admin,
                    {{"filter_groups", {{{"filters", {{{"field", "tax_id"}, {"op", "eq"}, {"value", "11222333000181"}}}}}}}})
                   .body;
  ASSERT_EQ(found["data"].size(), 1u) << found;
  EXPECT_EQ(found["data"][0]["legal_name"], "COLÉGIO SÃO FRANCISCO DE ASSIS");
  EXPECT_EQ(found["data"][0]["attributes"]["edu.inep_code"], "35000001");
  auto public_school = call("GET", pack + "/schools/35000002", user_key(h->tenant, "sales"));
  ASSERT_EQ(public_school.status, 200) << public_school.raw.body;
  EXPECT_EQ(public_school.body["administration"], "estadual");
  EXPECT_EQ(public_school.body["name"], "ESCOLA ESTADUAL JOÃO XXIII");
  EXPECT_EQ(call("GET", pack + "/schools?municipality_ibge=3550308&count=true", auditor).body["count"], 12);
  // Again next year: the same schools are updated, not duplicated.
  Json again = finished_import(upload_import(fixture("censo_escolar_escolas.csv"), {{"format", "inep_escolas"}}, "", "e.csv").body["id"]);
  EXPECT_EQ(again["progress"]["created"], 0) << again;
  // Not the census: refused whole, saying why.
  Json refused = finished_import(upload_import("CO_ENTIDADE;NOME\n1;x\n", {{"format", "inep_escolas"}}, "", "x.csv").body["id"]);
  EXPECT_EQ(refused["status"], "failed");
  EXPECT_NE(refused.dump().find("not the INEP school census"), std::string::npos) << refused;
}

TEST_P(Education, TheCommitteeViewAgreesWithTheStageGateThatAsksForIt) {
  std::string rep, rep_key = user_key(h->tenant, "sales", &rep);
  std::string school = create("/v1/accounts", {{"legal_name", "Colégio Santa Maria Ltda"}, {"tax_id", "11.444.777/0001-61"},
                                               {"owner_id", rep}, {"attributes", {{"edu.kind", "school"}, {"edu.inep_code", "41000007"}}}});
  std::string director = create("/v1/contacts", {{"name", "Helena Prado"}, {"account_id", school}, {"owner_id", rep}});
  std::string it_lead = create("/v1/contacts", {{"name", "Rafael Souza"}, {"account_id", school}, {"owner_id", rep}});
  std::string cfo = create("/v1/contacts", {{"name", "Marta Lins"}, {"account_id", school}, {"owner_id", rep}});
  std::string pipeline = create("/v1/pipelines", {{"name", "Soluções educacionais"}});
  std::string diagnosis = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Diagnóstico"}, {"key", "diagnostico"}, {"position", 1}});
  std::string demo = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Demonstração"}, {"key", "demonstracao"}, {"position", 2},
                                           {"entry_criteria", {{{"kind", "committee"}, {"roles", {"sponsor", "technical_evaluator"}},
                                                                {"types", {"meeting", "call"}}}}}});
  std::string deal = create("/v1/deals", {{"name", "Plataforma de aprendizagem"}, {"account_id", school}, {"pipeline_id", pipeline},
                                          {"stage_id", diagnosis}, {"owner_id", rep},
                                          {"contacts", {{{"contact_id", director}, {"role", "sponsor"}},
                                                        {{"contact_id", it_lead}, {"role", "technical_evaluator"}},
                                                        {{"contact_id", cfo}, {"role", "economic_buyer"}}}}},
                            rep_key);

  auto before = call("GET", pack + "/deals/" + deal + "/committee", rep_key);
  ASSERT_EQ(before.status, 200) << before.raw.body;
  EXPECT_EQ(before.body["coverage"]["unengaged"], Json({"sponsor", "economic_buyer", "technical_evaluator", "user", "blocker"}));
  EXPECT_EQ(before.body["coverage"]["missing"], Json({"user", "blocker"}));
  auto blocked = call("POST", "/v1/deals/" + deal + "/stage", rep_key, {{"stage_id", demo}});
  EXPECT_EQ(blocked.status, 422);
  EXPECT_NE(blocked.raw.body.find("committee_incomplete"), std::string::npos) << blocked.raw.body;

  create("/v1/interactions", {{"type", "meeting"}, {"direction", "outbound"}, {"contact_id", director}, {"deal_id", deal},
                              {"account_id", school}, {"subject", "Apresentação à direção"}},
         rep_key);
  auto half = call("GET", pack + "/deals/" + deal + "/committee", rep_key);
  EXPECT_EQ(half.body["coverage"]["unengaged"], Json({"economic_buyer", "technical_evaluator", "user", "blocker"})) << half.body;
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", rep_key, {{"stage_id", demo}}).status, 422);  // the gate agrees
  create("/v1/interactions", {{"type", "call"}, {"direction", "outbound"}, {"contact_id", it_lead}, {"account_id", school},
                              {"subject", "Requisitos de integração"}},
         rep_key);
  auto covered = call("GET", pack + "/deals/" + deal + "/committee", rep_key);
  EXPECT_TRUE(covered.body["members"][1]["engaged_in_stage"].get<bool>()) << covered.body;
  EXPECT_EQ(covered.body["coverage"]["roles"]["technical_evaluator"]["engaged"], 1);
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", rep_key, {{"stage_id", demo}}).status, 200);

  // Sentiments, noted by the team and kept on the record.
  auto noted = call("PUT", pack + "/deals/" + deal + "/committee/" + cfo, rep_key,
                    {{"sentiment", "skeptical"}, {"note", "quer ver o retorno antes do orçamento"}});
  ASSERT_EQ(noted.status, 200) << noted.raw.body;
  EXPECT_EQ(noted.body["noted_by"], rep);
  EXPECT_EQ(call("PUT", pack + "/deals/" + deal + "/committee/" + cfo, rep_key, {{"sentiment", "furious"}}).status, 422);
  EXPECT_EQ(call("PUT", pack + "/deals/" + deal + "/committee/" + cfo, auditor, {{"sentiment", "neutral"}}).status, 403);
  EXPECT_EQ(call("GET", pack + "/deals/" + deal + "/committee", auditor).body["members"][2]["sentiment"], "skeptical");
  std::string other = h->create_tenant("Outra escola");
  EXPECT_EQ(call("GET", pack + "/deals/" + deal + "/committee", user_key(other, "admin")).status, 404);
  EXPECT_EQ(call("GET", pack + "/deals/" + deal + "/committee", user_key(h->tenant, "sales")).status, 404);  // another rep's deal
}

TEST_P(Education, DecisionWindowsGiveTheOwnerATaskAndShowInTheCustomer360) {
  std::string rep, rep_key = user_key(h->tenant, "sales", &rep);
  std::string school = create("/v1/accounts", {{"legal_name", "Universidade do Cerrado"}, {"owner_id", rep},
                                               {"attributes", {{"edu.kind", "university"}, {"edu.emec_code", "1234"}}}});
  create(pack + "/campuses", {{"account_id", school}, {"name", "Campus Central"}, {"students", 5200}}, rep_key);
  create(pack + "/programs", {{"account_id", school}, {"name", "Administração"}, {"level", "graduacao"}, {"students", 640}}, rep_key);
  create(pack + "/calendar_windows", {{"account_id", school}, {"kind", "budget_cycle"}, {"name", "Orçamento 2027"},
                                      {"start", day(30)}, {"end", day(75)}},
         rep_key);
  create(pack + "/calendar_windows", {{"account_id", school}, {"kind", "enrolment"}, {"name", "Matrículas"},
                                      {"start", day(120)}, {"end", day(150)}},
         rep_key);
  EXPECT_EQ(call("POST", pack + "/calendar_windows", rep_key,
                 {{"account_id", school}, {"kind", "feriado"}, {"name", "x"}, {"start", day(1)}, {"end", day(2)}}).status,
            422);
  EXPECT_EQ(call("POST", pack + "/calendar-alerts/run", rep_key).status, 403);
  auto ran = call("POST", pack + "/calendar-alerts/run", manager);
  ASSERT_EQ(ran.status, 200) << ran.raw.body;
  EXPECT_EQ(ran.body["tasks_created"], 1);  // the budget, 30 days away; enrolment is 120 away
  EXPECT_EQ(call("POST", pack + "/calendar-alerts/run", manager).body["tasks_created"], 0);
  Json tasks = call("GET", "/v1/tasks?account_id=" + school, rep_key).body;
  ASSERT_EQ(tasks["data"].size(), 1u) << tasks;
  EXPECT_EQ(tasks["data"][0]["assignee_id"], rep);
  EXPECT_NE(tasks["data"][0]["title"].get<std::string>().find("Orçamento 2027"), std::string::npos);

  auto upcoming = call("GET", pack + "/institutions/" + school + "/calendar", rep_key);
  ASSERT_EQ(upcoming.status, 200) << upcoming.raw.body;
  ASSERT_EQ(upcoming.body["windows"].size(), 2u);
  EXPECT_EQ(upcoming.body["windows"][0]["kind"], "budget_cycle");
  EXPECT_EQ(call("GET", pack + "/institutions/" + school + "/calendar?from=soon", rep_key).status, 422);
  Json timeline = call("GET", "/v1/accounts/" + school + "/timeline?limit=50", rep_key).body;
  EXPECT_NE(timeline.dump().find("org.nucleo.education.calendar_windows"), std::string::npos);
  auto briefing = call("GET", "/v1/accounts/" + school + "/briefing", rep_key);
  const Json& section = briefing.body["sections"]["org.nucleo.education.institution"]["data"];
  EXPECT_EQ(section["students"], 640) << briefing.raw.body;
  EXPECT_EQ(section["campuses"], 1);
  EXPECT_EQ(section["emec_code"], "1234");
  EXPECT_EQ(section["next_window"]["kind"], "budget_cycle");
}

TEST_P(Education, TheVerticalDemoSeedsInstitutionsAndCommittees) {
  auto demo = PackFixture::demo();
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  Json shown = Json::parse(demo.out);
  EXPECT_GT(shown["counts"].value("org.nucleo.education programs", 0), 24) << shown;
  EXPECT_GT(shown["counts"].value("org.nucleo.education calendar_windows", 0), 24);
  std::string key = shown["admin_key"];
  Json accounts = call("GET", "/v1/accounts?limit=1", key).body;
  ASSERT_EQ(accounts["data"].size(), 1u);
  EXPECT_EQ(accounts["data"][0]["legal_name"].get<std::string>().find("Hospital"), std::string::npos);  // the pack's names
  Json deals = call("POST", "/v1/deals/search", key, {{"filter_groups", {{{"filters", {{{"field", "status"}, {"op", "eq"}, {"value", "open"}}}}}}}, {"limit", 1}}).body;
  ASSERT_EQ(deals["data"].size(), 1u) << deals;
  auto committee = call("GET", pack + "/deals/" + deals["data"][0]["id"].get<std::string>() + "/committee", key);
  ASSERT_EQ(committee.status, 200) << committee.raw.body;
  EXPECT_FALSE(committee.body["members"].empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, Education, testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
