// Issue #21, stage gates: criteria declared on a stage, enforced in the writing
// transaction of every stage move, on both backends, time driven by the harness clock.
#include "kernel/automation/stage_gate.hpp"

#include <gtest/gtest.h>

#include "kernel/automation/checklists.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/services/record_service.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::automation {
namespace {

using services::RecordService;
using test::refusal;

class StageGateTest : public testing::TestWithParam<store::Backend> {
 protected:
  StageGateTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    register_stage_gates(h.validators);
    pipeline = records.create(ctx, "pipeline", {{"name", "Licitação"}}).record["id"];
    first = stage("Qualificação", 0, Json::array());
  }
  std::string stage(const std::string& name, int position, const Json& criteria) {
    return records.create(ctx, "stage",
                          {{"pipeline_id", pipeline}, {"name", name}, {"position", position}, {"entry_criteria", criteria}})
        .record["id"];
  }

  test::ServiceHarness h;
  RecordService records;
  services::CallContext ctx;
  std::string pipeline, first;
};

TEST_P(StageGateTest, AMoveIsRefusedListingEveryUnmetCriterionThenPassesOnceMet) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Hospital Santa Clara"}}).record["id"];
  std::string proposal = stage("Proposta", 1,
                               Json::parse(R"([{"kind": "field", "field": "amount", "op": "gte", "value": 100000},
                                               {"kind": "field", "field": "account.attributes.health.cnes", "op": "exists"},
                                               {"kind": "interactions", "types": ["visit", "meeting"], "min_count": 2}])"));
  Json deal = records.create(ctx, "deal", {{"name", "Kit cirúrgico 2027"}, {"account_id", account},
                                           {"pipeline_id", pipeline}, {"amount", 50000}}).record;
  std::string id = deal["id"];
  auto moved = [&] { records.move_deal_stage(ctx, id, proposal, std::nullopt); };
  EXPECT_EQ(refusal(moved),
            (std::vector<std::string>{
                "entry_criteria/0 field_mismatch: amount is 50000, needs gte 100000",
                "entry_criteria/1 field_missing: account.attributes.health.cnes is not set",
                "entry_criteria/2 interactions_missing: 2 visit or meeting interaction(s) since the deal entered its "
                "stage, 0 logged"}));
  EXPECT_EQ(records.get(ctx, "deal", id)["stage_id"], first);  // nothing moved

  // A visit logged before the deal entered its stage does not count; two after it do.
  h.clock.advance_micros(60'000'000);
  records.update(ctx, "deal", id, {{"amount", 120000}});
  records.update(ctx, "account", account, {{"attributes", {{"health.cnes", "2077485"}}}});
  for (const char* type : {"visit", "meeting"})
    records.create(ctx, "interaction", {{"type", type}, {"direction", "outbound"}, {"deal_id", id}});
  moved();
  EXPECT_EQ(records.get(ctx, "deal", id)["stage_id"], proposal);
}

TEST_P(StageGateTest, InteractionsCountFromTheEntryIntoTheStageBeingLeft) {
  std::string visited = stage("Visitado", 1, Json::parse(R"([{"kind": "interactions", "types": ["visit"],
                                                               "direction": "outbound"}])"));
  std::string account = records.create(ctx, "account", {{"legal_name", "Fazenda Boa Vista"}}).record["id"];
  std::string id =
      records.create(ctx, "deal", {{"name", "Safra 27"}, {"account_id", account}, {"pipeline_id", pipeline}}).record["id"];
  records.create(ctx, "interaction", {{"type", "visit"}, {"direction", "inbound"}, {"deal_id", id}});
  EXPECT_EQ(refusal([&] { records.move_deal_stage(ctx, id, visited, std::nullopt); }).size(), 1u);  // inbound
  records.create(ctx, "interaction", {{"type", "visit"}, {"direction", "outbound"}, {"deal_id", id}});
  records.move_deal_stage(ctx, id, visited, std::nullopt);
  // Created straight into the gated stage: entering it all the same.
  EXPECT_EQ(refusal([&] {
              records.create(ctx, "deal", {{"name", "Atalho"}, {"account_id", account}, {"pipeline_id", pipeline},
                                           {"stage_id", visited}});
            }).size(),
            1u);
  // Back to the first stage (no gate) and forward again: the old visit was before re-entry.
  records.move_deal_stage(ctx, id, first, std::nullopt);
  h.clock.advance_micros(1'000'000);
  EXPECT_EQ(refusal([&] { records.move_deal_stage(ctx, id, visited, std::nullopt); }).size(), 1u);
}

TEST_P(StageGateTest, AnOverrideNeedsTheRoleAndAReasonAndIsRecordedWithWhatWasNotMet) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Banco do Cerrado"}}).record["id"];
  std::string approval = stage("Aprovação", 1, Json::parse(R"([{"kind": "field", "field": "amount", "op": "gte",
                                                                  "value": 1000000}])"));
  std::string id = records.create(ctx, "deal", {{"name", "Crédito rural"}, {"account_id", account},
                                                {"pipeline_id", pipeline}, {"amount", 10}}).record["id"];
  auto as = [&](const std::string& role, const std::string& reason) {
    services::CallContext c = ctx;
    auto p = std::make_shared<services::Principal>();
    p->role = role;
    c.principal = p;
    c.reason = reason;
    c.override_gates = true;
    return c;
  };
  EXPECT_EQ(refusal([&] { records.move_deal_stage(as("manager", " "), id, approval, std::nullopt); }),
            std::vector<std::string>{"reason reason_required: an override needs a reason (body \"reason\" or the "
                                     "X-Reason header)"});
  EXPECT_EQ(refusal([&] { records.move_deal_stage(as("sales", "cliente estratégico"), id, approval, std::nullopt); })
                .at(0)
                .substr(0, 29),
            "override override_not_allowed");
  records.move_deal_stage(as("manager", "cliente estratégico, comitê aprovou em ata"), id, approval, std::nullopt);
  EXPECT_EQ(records.get(ctx, "deal", id)["stage_id"], approval);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'deal.gate_overridden' AND entity_id = '" + id +
                    "' AND reason = 'cliente estratégico, comitê aprovou em ata' AND CAST(changes AS text) LIKE '%field_mismatch%'"),
            1);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'deal.gate_overridden'"), 1);
}

TEST_P(StageGateTest, ABadGateIsRefusedWhereItIsWrittenNamingEachProblem) {
  auto problems = refusal([&] {
    stage("Errada", 1, Json::parse(R"([{"kind": "vibes"},
                                       {"kind": "field", "field": "amout", "op": "gte", "value": 1},
                                       {"kind": "field", "field": "amount", "op": "between", "value": 1},
                                       {"kind": "interactions", "types": ["fax"], "min_count": 0, "colour": "red"}])"));
  });
  std::vector<std::string> fields;
  for (const auto& p : problems) fields.push_back(p.substr(0, p.find(' ')));
  EXPECT_EQ(fields, (std::vector<std::string>{"entry_criteria/0/kind", "entry_criteria/1/field", "entry_criteria/2/op",
                                              "entry_criteria/3/colour", "entry_criteria/3/types",
                                              "entry_criteria/3/min_count"}))
      << testing::PrintToString(problems);
  EXPECT_EQ(h.count("SELECT count(*) FROM stages WHERE name = 'Errada'"), 0);
  EXPECT_TRUE(gate_definition_problems(Json::parse(R"([{"kind": "field", "field": "account.tax_id", "op": "exists"},
      {"kind": "field", "field": "currency", "op": "in", "value": ["BRL", "USD"]}])"), GateScope{}).empty());
  // What the move itself sets is no criterion: a dry run and the move would read it differently.
  for (const char* derived : {"status", "stage_entered_at", "stage_id"})
    EXPECT_EQ(gate_definition_problems({{{"kind", "field"}, {"field", derived}, {"op", "exists"}}}, GateScope{}).size(), 1u)
        << derived;
}

// What GET /v1/deals/{id}/gate answers is what the move then enforces: over 80 generated
// deals and gates of every criterion kind, a passing dry run moves and a failing one is refused with the same
// problems in the same order.
TEST_P(StageGateTest, TheDryRunEqualsTheEnforcementOverGeneratedCases) {
  const std::vector<Json> pool = {
      Json::parse(R"({"kind": "field", "field": "amount", "op": "gte", "value": 100000})"),
      Json::parse(R"({"kind": "field", "field": "amount", "op": "lt", "value": 500000})"),
      Json::parse(R"({"kind": "field", "field": "expected_close", "op": "exists"})"),
      Json::parse(R"({"kind": "field", "field": "currency", "op": "in", "value": ["BRL"]})"),
      Json::parse(R"({"kind": "field", "field": "account.attributes.agro.car", "op": "exists"})"),
      Json::parse(R"({"kind": "field", "field": "account.legal_name", "op": "neq", "value": "Fazenda Velha"})"),
      Json::parse(R"({"kind": "interactions", "types": ["visit"], "min_count": 1})"),
      Json::parse(R"({"kind": "interactions", "types": ["call", "whatsapp"], "direction": "outbound", "min_count": 2})"),
      Json::parse(R"({"kind": "committee", "roles": ["economic_buyer"]})"),
      Json::parse(R"({"kind": "committee", "roles": ["economic_buyer", "technical"], "types": ["meeting"]})"),
      {{"kind", "checklist"}, {"stage_id", first}},
      Json::parse(R"({"kind": "approval", "roles": ["manager"]})")};
  // Deals start in `first`, whose checklist a gate may ask for.
  records.update(ctx, "stage", first,
                 {{"checklist_template", Json::parse(R"([{"key": "docs", "title": "Docs", "required_for_exit": true}])")}});
  std::string manager = records.create(ctx, "user", {{"name", "Gerente"}, {"email", "gerente@example.com"},
                                                     {"role", "manager"}}).record["id"];
  services::CallContext as_manager = ctx;
  auto principal = std::make_shared<services::Principal>();
  principal->role = "manager";
  principal->user_id = manager;
  as_manager.principal = principal;
  std::uint32_t seed = 20261203;
  auto next = [&](std::uint32_t n) {
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 8) % n;
  };
  int passed = 0, refused = 0;
  for (int i = 0; i < 80; ++i) {
    Json criteria = Json::array();
    for (const auto& c : pool)
      if (next(4) == 0) criteria.push_back(c);
    std::string gated = stage("Gate " + std::to_string(i), i + 1, criteria);
    Json account_input = {{"legal_name", next(4) == 0 ? "Fazenda Velha" : "Fazenda Nova"}};
    if (next(2)) account_input["attributes"] = {{"agro.car", "MT-5107925-0001"}};
    std::string account = records.create(ctx, "account", account_input).record["id"];
    Json deal_input = {{"name", "Caso " + std::to_string(i)}, {"account_id", account}, {"pipeline_id", pipeline},
                       {"amount", static_cast<int>(next(8)) * 100000}, {"currency", next(3) ? "BRL" : "USD"}};
    if (next(2)) deal_input["expected_close"] = "2027-03-31";
    std::string id = records.create(ctx, "deal", deal_input).record["id"];
    h.clock.advance_micros(1'000'000);
    for (std::uint32_t n = next(4); n > 0; --n)
      records.create(ctx, "interaction", {{"type", std::vector<const char*>{"visit", "call", "whatsapp"}[next(3)]},
                                          {"direction", next(2) ? "outbound" : "inbound"}, {"deal_id", id}});
    // A committee of zero to two roles, each member engaged or not.
    Json members = Json::array();
    for (const char* role : {"economic_buyer", "technical"}) {
      if (next(3) == 0) continue;
      std::string contact = records.create(ctx, "contact", {{"name", std::string("Contato ") + role}}).record["id"];
      members.push_back({{"contact_id", contact}, {"role", role}});
      if (next(3) != 0)
        records.create(ctx, "interaction", {{"type", next(2) ? "meeting" : "call"}, {"direction", "outbound"},
                                            {"contact_id", contact}, {"deal_id", id}});
    }
    if (!members.empty()) records.update(ctx, "deal", id, {{"contacts", members}});
    open_checklist(h.deps(), ctx, id, first);
    if (next(2))
      for (const auto& t : records.list(ctx, "task", {{{"deal_id", id}}, "", 10, false}))
        records.complete_task(ctx, t["id"]);
    bool asks_approval = false;
    for (const auto& c : criteria) asks_approval = asks_approval || c["kind"] == "approval";
    if (asks_approval && next(2)) records.approve_deal_move(as_manager, id, gated, "");

    Json dry = services::RecordService(h.deps()).deal_gate(ctx, id, gated);
    std::vector<std::string> expected;
    for (const auto& u : dry["unmet"])
      expected.push_back("entry_criteria/" + std::to_string(u["criterion_index"].get<int>()) + " " +
                         u["code"].get<std::string>() + ": " + u["missing"].get<std::string>());
    if (dry["passes"] == true) {
      EXPECT_NO_THROW(records.move_deal_stage(ctx, id, gated, std::nullopt)) << criteria.dump();
      ++passed;
    } else {
      EXPECT_EQ(refusal([&] { records.move_deal_stage(ctx, id, gated, std::nullopt); }), expected) << criteria.dump();
      ++refused;
    }
  }
  EXPECT_GT(passed, 10);  // the generator reaches both outcomes
  EXPECT_GT(refused, 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, StageGateTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::automation
