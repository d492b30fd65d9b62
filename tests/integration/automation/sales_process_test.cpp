// Issue #21, the sales process beyond field and interaction gates: buying committees,
// checklists (created on entry, once, required before a later gate), maker-checker
// approvals, stalled deals, task reminders and the agenda — on both backends, time
// driven by the harness clock (2026-07-01T00:00:00Z, a Wednesday).
#include <gtest/gtest.h>

#include <thread>

#include "kernel/automation/checklists.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/sales_process_service.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::automation {
namespace {

using services::RecordService;
using test::refusal;

constexpr std::int64_t minute = 60'000'000, hour = 60 * minute, day = 24 * hour;

class SalesProcessTest : public testing::TestWithParam<store::Backend> {
 protected:
  SalesProcessTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    register_stage_gates(h.validators);
    pipeline = records.create(ctx, "pipeline", {{"name", "Parcerias"}}).record["id"];
    first = stage({{"name", "Prospecção"}, {"position", 0}});
    account = records.create(ctx, "account", {{"legal_name", "Universidade Federal do Cerrado"}}).record["id"];
  }
  std::string stage(Json input) {
    input["pipeline_id"] = pipeline;
    return records.create(ctx, "stage", input).record["id"];
  }
  std::string user(const std::string& name, const std::string& role, const std::string& zone = "America/Sao_Paulo") {
    return records
        .create(ctx, "user", {{"name", name}, {"email", name + "@cerrado.example"}, {"role", role}, {"time_zone", zone}})
        .record["id"];
  }
  std::string deal(Json input = Json::object()) {
    input["name"] = input.value("name", "Convênio de pesquisa");
    input["account_id"] = account;
    input["pipeline_id"] = pipeline;
    return records.create(ctx, "deal", input).record["id"];
  }
  services::CallContext as(const std::string& user_id, const std::string& role) {
    services::CallContext c = ctx;
    auto p = std::make_shared<services::Principal>();
    p->role = role;
    p->user_id = user_id;
    c.principal = p;
    c.actor = {"user", user_id, ""};
    return c;
  }
  std::string stage_of(const std::string& deal_id) { return records.get(ctx, "deal", deal_id)["stage_id"]; }
  std::vector<Json> tasks_of(const std::string& deal_id) {
    store::RecordQuery q;
    q.equals = {{"deal_id", deal_id}};
    return records.list(ctx, "task", q);
  }

  test::ServiceHarness h;
  RecordService records;
  services::CallContext ctx;
  std::string pipeline, first, account;
};

TEST_P(SalesProcessTest, ACommitteeGateWantsEveryRoleOnTheDealEngagedSinceItEnteredItsStage) {
  std::string committee = stage({{"name", "Comitê"}, {"position", 1},
                                 {"entry_criteria", Json::parse(R"([{"kind": "committee",
                                     "roles": ["economic_buyer", "technical"], "types": ["meeting", "visit"]}])")}});
  std::string reitora = records.create(ctx, "contact", {{"name", "Reitora Ana"}, {"account_id", account}}).record["id"];
  std::string ti = records.create(ctx, "contact", {{"name", "Diretor de TI"}, {"account_id", account}}).record["id"];
  std::string id = deal({{"contacts", {{{"contact_id", reitora}, {"role", "economic_buyer"}}}}});
  // A meeting before the deal entered its stage does not count.
  records.create(ctx, "interaction", {{"type", "meeting"}, {"direction", "outbound"}, {"contact_id", reitora},
                                      {"occurred_at", "2026-06-01T10:00:00Z"}});
  auto move = [&] { records.move_deal_stage(ctx, id, committee, std::nullopt); };
  EXPECT_EQ(refusal(move), std::vector<std::string>{
                               "entry_criteria/0 committee_incomplete: economic_buyer: no interaction with " + reitora +
                               " since the deal entered its stage; technical: no contact on the deal has this role"});

  records.update(ctx, "deal", id, {{"contacts", {{{"contact_id", reitora}, {"role", "economic_buyer"}},
                                                 {{"contact_id", ti}, {"role", "technical"}}}}});
  h.clock.advance_micros(hour);
  records.create(ctx, "interaction", {{"type", "meeting"}, {"direction", "outbound"}, {"contact_id", reitora},
                                      {"deal_id", id}});
  // A call is not among the types asked for; a visit logged on no deal is.
  records.create(ctx, "interaction", {{"type", "call"}, {"direction", "outbound"}, {"contact_id", ti}});
  EXPECT_EQ(refusal(move).size(), 1u);
  records.create(ctx, "interaction", {{"type", "visit"}, {"direction", "outbound"}, {"contact_id", ti}});
  move();
  EXPECT_EQ(stage_of(id), committee);
}

TEST_P(SalesProcessTest, EnteringAStageOpensItsChecklistOnceAndALaterGateWaitsForTheRequiredItems) {
  std::string manaus = user("Rosa", "sales", "America/Manaus");
  std::string gerente = user("Caio", "manager");
  Json checklist = Json::parse(R"([
      {"key": "nda", "title": "Assinar NDA", "due_in_business_days": 2, "required_for_exit": true},
      {"key": "visita", "title": "Visitar o campus", "due_in_business_days": 0,
       "assignee": {"rule": "role", "role": "manager"}},
      {"key": "plano", "title": "Plano de trabalho", "required_for_exit": true}])");
  std::string qualified = stage({{"name", "Qualificado"}, {"position", 1}, {"checklist_template", checklist}});
  std::string proposal = stage({{"name", "Proposta"}, {"position", 2},
                                {"entry_criteria", {{{"kind", "checklist"}, {"stage_id", qualified}}}}});
  std::string id = deal({{"owner_id", manaus}});
  records.move_deal_stage(ctx, id, qualified, std::nullopt);
  EXPECT_EQ(open_checklist(h.deps(), ctx, id, qualified), 3u);
  EXPECT_EQ(open_checklist(h.deps(), ctx, id, qualified), 0u);  // a repeated delivery adds nothing

  auto tasks = tasks_of(id);
  ASSERT_EQ(tasks.size(), 3u);
  std::map<std::string, Json> by_origin;
  for (const auto& t : tasks) by_origin[t["origin_rule"]] = t;
  const Json& nda = by_origin["checklist:" + qualified + ":nda"];
  EXPECT_EQ(nda["kind"], "checklist");
  EXPECT_EQ(nda["assignee_id"], manaus);
  EXPECT_EQ(nda["required_for_exit"], true);
  // Wednesday 2026-07-01 00:00Z is Tuesday 20:00 in Manaus: two business days on is Thursday, 18:00 there.
  EXPECT_EQ(nda["due_at"], "2026-07-02T22:00:00Z");
  EXPECT_EQ(by_origin["checklist:" + qualified + ":visita"]["assignee_id"], gerente);
  EXPECT_EQ(by_origin["checklist:" + qualified + ":visita"]["due_at"], "2026-07-01T21:00:00Z");  // Tuesday 18:00 in SP

  EXPECT_EQ(refusal([&] { records.move_deal_stage(ctx, id, proposal, std::nullopt); }),
            std::vector<std::string>{"entry_criteria/0 checklist_incomplete: not done on stage Qualificado's "
                                     "checklist: Assinar NDA, Plano de trabalho"});
  records.complete_task(ctx, nda["id"]);
  records.complete_task(ctx, by_origin["checklist:" + qualified + ":plano"]["id"]);
  records.move_deal_stage(ctx, id, proposal, std::nullopt);

  // Back and in again: the done items stay done, the open one is not opened twice.
  records.move_deal_stage(ctx, id, qualified, std::nullopt);
  EXPECT_EQ(open_checklist(h.deps(), ctx, id, qualified), 0u);
  EXPECT_EQ(tasks_of(id).size(), 3u);
}

TEST_P(SalesProcessTest, ConcurrentDeliveriesNeverOpenAChecklistTwice) {
  std::string qualified = stage({{"name", "Qualificado"}, {"position", 1},
                                 {"checklist_template", Json::parse(R"([{"key": "a", "title": "A"},
                                     {"key": "b", "title": "B"}, {"key": "c", "title": "C"}])")}});
  std::string id = deal();
  records.move_deal_stage(ctx, id, qualified, std::nullopt);
  std::vector<std::thread> threads;
  std::atomic<std::size_t> created{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int attempt = 0; attempt < 20; ++attempt) {
        try {
          created += open_checklist(h.deps(), ctx, id, qualified);
          return;
        } catch (const Error& e) {
          if (e.code() != ErrorCode::aborted) throw;  // SQLite's one writer: busy, try again
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 3u);
  EXPECT_EQ(tasks_of(id).size(), 3u);
}

TEST_P(SalesProcessTest, TheDispatcherOpensTheChecklistOfTheStageADealEnters) {
  std::string qualified = stage({{"name", "Qualificado"}, {"position", 1},
                                 {"checklist_template", Json::parse(R"([{"key": "nda", "title": "Assinar NDA"}])")}});
  events::Dispatcher dispatcher(h.deps().worker_database, h.clock, {}, "test-node");
  dispatcher.add(checklist_subscriber(h.deps(), h.clock));
  dispatcher.run_once();  // registers the subscriber at the end of the outbox
  std::string created_into = deal({{"stage_id", qualified}});
  std::string moved = deal();
  records.move_deal_stage(ctx, moved, qualified, std::nullopt);
  dispatcher.run_once();
  for (const auto& id : {created_into, moved}) {
    auto tasks = tasks_of(id);
    ASSERT_EQ(tasks.size(), 1u) << id;
    EXPECT_EQ(tasks[0]["title"], "Assinar NDA");
  }
  // Made by the system because of the move, and audited as such.
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'task.created' AND causation_id IS NOT NULL AND depth = 1"),
            2);
}

TEST_P(SalesProcessTest, AnApprovalCountsOnlyFromAnAllowedRoleAndNotFromTheMover) {
  std::string rep = user("Rep", "sales"), gerente = user("Gerente", "manager"), outra = user("Outra", "manager");
  std::string credit = stage({{"name", "Comitê de crédito"}, {"position", 1},
                              {"entry_criteria", Json::parse(R"([{"kind": "approval", "roles": ["manager"]}])")}});
  std::string id = deal({{"owner_id", rep}});
  // A role the gate does not name cannot approve; neither can a caller who is no user.
  EXPECT_EQ(refusal([&] { records.approve_deal_move(as(rep, "sales"), id, credit, ""); }),
            std::vector<std::string>{"role approval_not_allowed: the gate of stage " + credit +
                                     " takes approvals from manager, not sales"});
  EXPECT_EQ(refusal([&] { records.approve_deal_move(ctx, id, credit, ""); }).at(0).substr(0, 25),
            "approver approver_unknown");
  EXPECT_EQ(refusal([&] { records.approve_deal_move(as(gerente, "manager"), id, first, ""); }).at(0).substr(0, 25),
            "stage_id already_in_stage");

  // The manager approves and then moves it herself: her own approval does not count.
  records.approve_deal_move(as(gerente, "manager"), id, credit, "limite dentro da política");
  EXPECT_EQ(refusal([&] { records.move_deal_stage(as(gerente, "manager"), id, credit, std::nullopt); }),
            std::vector<std::string>{"entry_criteria/0 approval_missing: an approval of this move by a manager other "
                                     "than the mover (the mover's own approval does not count)"});
  Json dry = services::RecordService(h.deps()).deal_gate(as(rep, "sales"), id, credit);
  EXPECT_EQ(dry["passes"], true);  // for the rep, the manager is a second person
  records.move_deal_stage(as(rep, "sales"), id, credit, std::nullopt);
  EXPECT_EQ(stage_of(id), credit);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'deal.approved' AND entity_id = '" + id + "'"), 1);

  // An approval is for one stay: back and forth, the old approval no longer counts.
  h.clock.advance_micros(minute);
  records.move_deal_stage(ctx, id, first, std::nullopt);
  EXPECT_EQ(refusal([&] { records.move_deal_stage(as(rep, "sales"), id, credit, std::nullopt); }).size(), 1u);
  records.approve_deal_move(as(outra, "manager"), id, credit, "");
  records.move_deal_stage(as(rep, "sales"), id, credit, std::nullopt);
}

TEST_P(SalesProcessTest, ImpossibleOrBrokenGatesAreRefusedWhereTheyAreWritten) {
  Json items = Json::parse(R"([{"key": "kyc", "title": "KYC", "required_for_exit": true}])");
  std::string kyc = stage({{"name", "KYC"}, {"position", 1}, {"checklist_template", items}});
  std::string later = stage({{"name", "Depois"}, {"position", 5}});
  auto problems = refusal([&] {
    stage({{"name", "Proposta"}, {"position", 2}, {"checklist_template", items},
           {"entry_criteria", Json::parse(R"([{"kind": "committee", "roles": []},
               {"kind": "approval", "roles": ["chefe"]},
               {"kind": "checklist", "stage_id": ")" + later + R"("},
               {"kind": "checklist", "stage_id": ")" + kyc + R"(", "items": ["kyc", "aml"]},
               {"kind": "checklist", "stage_id": "stg_00000000000000000000000000"}])")}});
  });
  std::vector<std::string> fields;
  for (const auto& p : problems) fields.push_back(p.substr(0, p.find(' ')));
  EXPECT_EQ(fields, (std::vector<std::string>{"entry_criteria/0/roles", "entry_criteria/1/roles",
                                              "entry_criteria/2/stage_id", "entry_criteria/3/items/1",
                                              "entry_criteria/4/stage_id"}))
      << testing::PrintToString(problems);

  // A gate asking for its own stage's checklist could never pass.
  std::string proposal = stage({{"name", "Proposta"}, {"position", 2}, {"checklist_template", items}});
  EXPECT_EQ(refusal([&] {
              records.update(ctx, "stage", proposal,
                             {{"entry_criteria", {{{"kind", "checklist"}, {"stage_id", proposal}}}}});
            }).at(0).substr(0, 25),
            "entry_criteria/0/stage_id");
  // Once a gate names the KYC checklist, KYC may not move after it, lose the item or be archived.
  records.update(ctx, "stage", proposal,
                 {{"entry_criteria", {{{"kind", "checklist"}, {"stage_id", kyc}, {"items", {"kyc"}}}}}});
  EXPECT_EQ(refusal([&] { records.update(ctx, "stage", kyc, {{"position", 3}}); }).at(0).substr(0, 30),
            "checklist_template gate_broken");
  EXPECT_EQ(refusal([&] { records.update(ctx, "stage", kyc, {{"checklist_template", Json::array()}}); }).size(), 1u);
  EXPECT_EQ(refusal([&] { records.archive(ctx, "stage", kyc); }).size(), 1u);

  auto bad_items = refusal([&] {
    stage({{"name", "Itens"}, {"position", 7},
           {"checklist_template", Json::parse(R"([{"key": "A b", "title": ""},
               {"key": "x", "title": "X", "assignee": {"rule": "role", "role": "boss"}, "due_in_business_days": -1},
               {"key": "x", "title": "X again", "colour": "red"}])")}});
  });
  fields.clear();
  for (const auto& p : bad_items) fields.push_back(p.substr(0, p.find(' ')));
  EXPECT_EQ(fields, (std::vector<std::string>{"checklist_template/0/key", "checklist_template/0/title",
                                              "checklist_template/1/due_in_business_days",
                                              "checklist_template/1/assignee/role", "checklist_template/2/colour",
                                              "checklist_template/2/key"}))
      << testing::PrintToString(bad_items);
}

TEST_P(SalesProcessTest, ADealStallsAfterRotDaysOnceAndAMoveOrAnInteractionClearsIt) {
  std::string slow = stage({{"name", "Negociação"}, {"position", 1}, {"rot_days", 3}});
  std::string id = deal();
  records.move_deal_stage(ctx, id, slow, std::nullopt);
  services::SalesProcessService process(h.deps());
  services::StallSettings settings;
  h.clock.advance_micros(3 * day - minute);
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).stalled, 0u);
  h.clock.advance_micros(2 * minute);
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).stalled, 1u);
  EXPECT_EQ(records.get(ctx, "deal", id)["stalled_since"], "2026-07-04T00:00:00Z");
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).stalled, 0u);  // once per stall
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'deal.stalled'"), 1);

  // Stalled deals can be searched for.
  Json stalled = {{"filter_groups", {{{"filters", {{{"field", "stalled_since"}, {"op", "exists"}, {"value", true}}}}}}}};
  EXPECT_EQ(records.search(ctx, "deal", stalled, Json()).records.size(), 1u);

  // A call on the deal restarts its clock.
  h.clock.advance_micros(hour);
  records.create(ctx, "interaction", {{"type", "call"}, {"direction", "outbound"}, {"deal_id", id}});
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).cleared, 1u);
  EXPECT_TRUE(records.get(ctx, "deal", id)["stalled_since"].is_null());
  h.clock.advance_micros(3 * day);
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).stalled, 1u);
  // Unless configured otherwise, a move always clears it at once.
  records.move_deal_stage(ctx, id, first, std::nullopt);
  EXPECT_TRUE(records.get(ctx, "deal", id)["stalled_since"].is_null());
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'deal.stall_cleared'"), 1);

  // Without activity resets, interactions leave the clock alone.
  settings.activity_resets = false;
  records.move_deal_stage(ctx, id, slow, std::nullopt);
  h.clock.advance_micros(2 * day);
  records.create(ctx, "interaction", {{"type", "call"}, {"direction", "outbound"}, {"deal_id", id}});
  h.clock.advance_micros(day + minute);
  EXPECT_EQ(process.update_stalled_deals(ctx, settings).stalled, 1u);
}

TEST_P(SalesProcessTest, RemindersFireOncePerTaskAndDueTime) {
  std::string rep = user("Rep", "sales");
  std::string soon = records.create(ctx, "task", {{"title", "Ligar para a reitoria"}, {"assignee_id", rep},
                                                  {"due_at", "2026-07-01T00:30:00Z"}}).record["id"];
  records.create(ctx, "task", {{"title", "Sem prazo"}, {"assignee_id", rep}});
  records.create(ctx, "task", {{"title", "Mais tarde"}, {"assignee_id", rep}, {"due_at", "2026-07-05T00:00:00Z"}});
  services::SalesProcessService process(h.deps());
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 1u);  // due soon
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 0u);
  h.clock.advance_micros(31 * minute);
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 1u);  // overdue
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 0u);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'task.due_soon' AND entity_id = '" + soon + "'"), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'task.overdue' AND entity_id = '" + soon + "'"), 1);
  // Put off: a new due time reminds again; done: never.
  records.update(ctx, "task", soon, {{"due_at", "2026-07-01T01:30:00Z"}});
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 1u);
  records.complete_task(ctx, soon);
  h.clock.advance_micros(2 * hour);
  EXPECT_EQ(process.send_task_reminders(ctx, std::chrono::minutes(60)), 0u);
}

TEST_P(SalesProcessTest, TheAgendaOrdersByDueTimeAcrossTimeZonesWithDealAndAccount) {
  std::string manaus = user("Rosa", "sales", "America/Manaus");
  std::string sp = user("Caio", "sales", "America/Sao_Paulo");
  std::string id = deal({{"owner_id", manaus}, {"amount", 250000}});
  auto task = [&](const std::string& title, const std::string& who, const std::string& due) {
    records.create(ctx, "task", {{"title", title}, {"assignee_id", who}, {"due_at", due}, {"deal_id", id}});
  };
  // 18:00 in Manaus is 22:00Z, 18:00 in São Paulo 21:00Z: the same wall time, an hour apart.
  task("Rosa: enviar proposta", manaus, "2026-07-02T22:00:00Z");
  task("Rosa: atrasada", manaus, "2026-06-30T15:00:00Z");
  task("Rosa: fora da janela", manaus, "2026-07-20T12:00:00Z");
  task("Caio: ligar", sp, "2026-07-02T21:00:00Z");
  services::SalesProcessService process(h.deps());
  Json rosa = process.agenda(ctx, {manaus, h.clock.now(), Timestamp{h.clock.now().micros + 7 * day}});
  ASSERT_EQ(rosa["items"].size(), 2u) << rosa.dump(2);
  EXPECT_EQ(rosa["time_zone"], "America/Manaus");
  EXPECT_EQ(rosa["items"][0]["task"]["title"], "Rosa: atrasada");
  EXPECT_EQ(rosa["items"][0]["overdue"], true);
  EXPECT_EQ(rosa["items"][1]["due_local"], "2026-07-02T18:00:00-04:00");
  EXPECT_EQ(rosa["items"][1]["deal"]["name"], "Convênio de pesquisa");
  EXPECT_EQ(rosa["items"][1]["account"]["legal_name"], "Universidade Federal do Cerrado");
  Json caio = process.agenda(ctx, {sp, h.clock.now(), Timestamp{h.clock.now().micros + 7 * day}});
  ASSERT_EQ(caio["items"].size(), 1u);
  EXPECT_EQ(caio["items"][0]["due_local"], "2026-07-02T18:00:00-03:00");
  EXPECT_THROW(process.agenda(ctx, {"usr_00000000000000000000000000", h.clock.now(), h.clock.now()}), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, SalesProcessTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::automation
