// Issue #31, automation rules: checked whole when saved (422 by JSON pointer), fired by
// the dispatcher once per event as the rule, atomically, planned by the same function a
// dry run shows, stopped at the loop bound — on both backends, time driven by the
// harness clock (2026-07-01T00:00:00Z).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>

#include "kernel/automation/pipeline_definition.hpp"
#include "kernel/automation/rule_files.hpp"
#include "kernel/automation/rule_scan.hpp"
#include "kernel/automation/rules.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/automation_log.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/channel_delivery.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/proposal_service.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"
#include "tests/support/process.hpp"

namespace nucleo::automation {
namespace {

using services::RecordService;
using test::error_of;

constexpr std::int64_t minute = 60'000'000, hour = 60 * minute, day = 24 * hour;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

class RulesTest : public testing::TestWithParam<store::Backend> {
 protected:
  RulesTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    register_stage_gates(h.validators);
    register_rule_checks(h.validators);
    pipeline = records.create(ctx, "pipeline", {{"name", "Hospitais"}}).record["id"];
    qualification = stage({{"name", "Qualificação"}, {"position", 0}});
    proposal = stage({{"name", "Proposta"}, {"position", 1}});
    owner = records.create(ctx, "user", {{"name", "Rita"}, {"email", "rita@hospital.example"}, {"role", "sales"}})
                .record["id"];
    account = records.create(ctx, "account", {{"legal_name", "Hospital Santa Luzia"}, {"owner_id", owner}}).record["id"];
    dispatcher.add(rules_subscriber(h.deps(), h.clock, channels, settings));
    dispatcher.run_once();  // the subscriber's cursor starts here
  }
  std::string stage(Json input) {
    input["pipeline_id"] = pipeline;
    return records.create(ctx, "stage", input).record["id"];
  }
  std::string deal(const std::string& name, std::int64_t amount, const std::string& account_id = "") {
    return records
        .create(ctx, "deal", {{"name", name}, {"account_id", account_id.empty() ? account : account_id},
                              {"pipeline_id", pipeline}, {"stage_id", qualification}, {"amount", amount},
                              {"owner_id", owner}})
        .record["id"];
  }
  std::string rule(Json document) {
    document["name"] = document.value("name", "regra");
    document["enabled"] = document.value("enabled", true);
    return records.create(ctx, "automation_rule", document).record["id"];
  }
  void dispatch() {
    while (dispatcher.run_once() > 0) {
    }
  }
  std::size_t tasks_from(const std::string& rule_id) {
    return h.count("SELECT COUNT(*) FROM tasks WHERE origin_rule = 'rule:" + rule_id + "'");
  }

  test::ServiceHarness h;
  RecordService records;
  services::CallContext ctx;
  std::string pipeline, qualification, proposal, owner, account;
  ChannelAccess channels;
  AutomationSettings settings{3, std::chrono::milliseconds(0)};
  events::Dispatcher dispatcher{h.deps().worker_database, h.clock, {}, "test-node"};
};

Json big_deal_rule(const std::string& proposal) {
  return {{"trigger", {{"stage_entered", proposal}}},
          {"conditions", {{{"field", "deal.amount"}, {"op", "gte"}, {"value", 100000}}}},
          {"actions", {{{"type", "create_task"}, {"title", "Ligar para {{account.legal_name}}: {{deal.name}}"},
                        {"assignee", {{"rule", "owner"}}}}}}};
}

TEST_P(RulesTest, ARuleWithAnUnknownFieldActionOrVariableIsRefusedNamingItsPointer) {
  Json bad = {{"name", "quebrada"},
              {"trigger", {{"event", "deal.stage_changed"}}},
              {"conditions", {{{"field", "deal.colour"}, {"op", "eq"}, {"value", "blue"}},
                              {{"field", "invoice.total"}, {"op", "gt"}, {"value", 1}}}},
              {"actions", {{{"type", "dance"}},
                           {{"type", "create_task"}, {"title", "Ver {{deal.nickname}}"}},
                           {{"type", "set_field"}, {"field", "probability"}, {"value", 10}},
                           {{"type", "move_stage"}, {"stage_id", "stg_00000000000000000000000000"}}}}};
  Error e = error_of([&] { records.create(ctx, "automation_rule", bad); });
  ASSERT_EQ(e.code(), ErrorCode::validation) << e.what();
  std::set<std::string> fields;
  for (const auto& f : e.fields()) fields.insert(f.field);
  for (const char* pointer : {"/conditions/0/field", "/conditions/1/field", "/actions/0/type", "/actions/1/title",
                              "/actions/2/field", "/actions/3/stage_id"})
    EXPECT_TRUE(fields.count(pointer)) << pointer << " missing from " << e.what();
  EXPECT_NE(std::string(e.what()).find("nickname"), std::string::npos) << e.what();
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM automation_rules"), 0u);
}

TEST_P(RulesTest, AStageRuleFiresOnceForTheDealsItsConditionsTakeAsTheRule) {
  std::string id = rule(big_deal_rule(proposal));
  std::string big = deal("Tomógrafos", 250000), small = deal("Luvas", 8000);
  records.move_deal_stage(ctx, big, proposal);
  records.move_deal_stage(ctx, small, proposal);
  dispatch();
  ASSERT_EQ(tasks_from(id), 1u);
  store::RecordQuery q;
  q.equals = {{"deal_id", big}};
  auto tasks = records.list(ctx, "task", q);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["title"], "Ligar para Hospital Santa Luzia: Tomógrafos");
  EXPECT_EQ(tasks[0]["assignee_id"], owner);
  // Created as the rule, at its version, caused by the stage change one level down.
  Json created;
  for (const auto& e : services::AutomationLog(h.deps()).recent_events(ctx, 100))
    if (e["name"] == "task.created" && e["entity"]["id"] == tasks[0]["id"]) created = e;
  ASSERT_FALSE(created.is_null());
  EXPECT_EQ(created["actor"]["type"], "rule");
  EXPECT_EQ(created["actor"]["id"], id + "@1");
  EXPECT_EQ(created["depth"], 1);

  // The same event again (a redelivery) fires nothing.
  auto firings = services::AutomationLog(h.deps()).firings(ctx, id, 10);
  ASSERT_EQ(firings.size(), 1u);
  EXPECT_EQ(firings[0]["outcome"], "done");
  Json envelope;
  for (const auto& e : services::AutomationLog(h.deps()).recent_events(ctx, 50))
    if (e["id"] == firings[0]["event_id"]) envelope = e;
  ASSERT_FALSE(envelope.is_null());
  EXPECT_EQ(fire_rule(h.deps(), h.clock, channels, settings, compile_rule(records.get(ctx, "automation_rule", id)),
                      envelope)["outcome"],
            "already_fired");
  EXPECT_EQ(tasks_from(id), 1u);
}

TEST_P(RulesTest, ARefusedActionFailsTheFiringAndUndoesTheOthers) {
  std::string gated = stage({{"name", "Contrato"}, {"position", 2},
                             {"entry_criteria", {{{"kind", "field"}, {"field", "expected_close"}, {"op", "exists"}}}}});
  Json document = big_deal_rule(proposal);
  document["actions"].push_back({{"type", "move_stage"}, {"stage_id", gated}});
  std::string id = rule(document);
  std::string big = deal("Ressonância", 900000);
  records.move_deal_stage(ctx, big, proposal);
  dispatch();
  EXPECT_EQ(tasks_from(id), 0u);  // created, then rolled back with the refused move
  auto firings = services::AutomationLog(h.deps()).firings(ctx, id, 10);
  ASSERT_EQ(firings.size(), 1u);
  EXPECT_EQ(firings[0]["outcome"], "failed");
  EXPECT_EQ(firings[0]["summary"]["error"]["code"], "validation");
  EXPECT_EQ(records.get(ctx, "deal", big)["stage_id"], proposal);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM event_failures"), 0u);  // refused for good: not retried
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM outbox WHERE name = 'automation.rule_failed' AND entity_id = '" + id + "'"), 1u);
}

// The rules one event fires commit together, each in a savepoint: the refused one is
// undone alone. Conditions on the same field (deal.amount) share the value the event
// read, and a condition on the event reads the envelope's own fields.
TEST_P(RulesTest, OneEventsFiringsCommitTogetherAndARefusedOneIsUndoneAlone) {
  std::string gated = stage({{"name", "Contrato"}, {"position", 2},
                             {"entry_criteria", {{{"kind", "field"}, {"field", "expected_close"}, {"op", "exists"}}}}});
  std::string big_deals = rule(big_deal_rule(proposal));
  Json refused = big_deal_rule(proposal);
  refused["actions"].push_back({{"type", "move_stage"}, {"stage_id", gated}});
  std::string refusing = rule(refused);
  Json small = big_deal_rule(proposal);
  small["conditions"] = {{{"field", "deal.amount"}, {"op", "lt"}, {"value", 100}}};
  std::string small_deals = rule(small);
  Json any_move = big_deal_rule(proposal);
  any_move["conditions"] = {{{"field", "event.name"}, {"op", "eq"}, {"value", "deal.stage_changed"}},
                            {{"field", "deal.name"}, {"op", "contains"}, {"value", "RESSON"}}};
  std::string moves = rule(any_move);

  std::string big = deal("Ressonância", 900000);
  records.move_deal_stage(ctx, big, proposal);
  dispatch();
  EXPECT_EQ(tasks_from(big_deals), 1u);
  EXPECT_EQ(tasks_from(moves), 1u);
  EXPECT_EQ(tasks_from(small_deals), 0u);  // its condition on the shared field fails
  EXPECT_EQ(tasks_from(refusing), 0u);     // created, then undone with its refused move
  auto outcome = [&](const std::string& id) {
    auto firings = services::AutomationLog(h.deps()).firings(ctx, id, 10);
    return firings.size() == 1 ? firings[0]["outcome"].get<std::string>() : std::to_string(firings.size()) + " firings";
  };
  EXPECT_EQ(outcome(big_deals), "done");
  EXPECT_EQ(outcome(moves), "done");
  EXPECT_EQ(outcome(refusing), "failed");
  EXPECT_EQ(outcome(small_deals), "0 firings");
  EXPECT_EQ(records.get(ctx, "deal", big)["stage_id"], proposal);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM event_failures"), 0u);

  // Delivered again, the event fires nothing more.
  Json envelope;
  for (const auto& e : services::AutomationLog(h.deps()).recent_events(ctx, 50))
    if (e["name"] == "deal.stage_changed") envelope = e;
  ASSERT_FALSE(envelope.is_null());
  EXPECT_EQ(rules_subscriber(h.deps(), h.clock, channels, settings).deliver(envelope), "");
  EXPECT_EQ(tasks_from(big_deals), 1u);
  EXPECT_EQ(tasks_from(moves), 1u);
  EXPECT_EQ(outcome(refusing), "failed");
}

TEST_P(RulesTest, ASelfTriggeringRuleStopsAtTheBoundWithALoopStoppedEvent) {
  std::string id = rule({{"trigger", {{"event", "deal.updated"}}},
                         {"actions", {{{"type", "set_field"}, {"field", "name"}, {"value", "{{deal.name}}+"}}}}});
  std::string d = deal("Eco", 1);
  records.update(ctx, "deal", d, {{"amount", 2}});  // depth 0
  dispatch();
  EXPECT_EQ(records.get(ctx, "deal", d)["name"], "Eco+++");  // depths 0, 1 and 2 fire; 3 is the bound
  std::map<std::string, int> outcomes;
  for (const auto& f : services::AutomationLog(h.deps()).firings(ctx, id, 10)) {
    ++outcomes[f["outcome"]];
    if (f["outcome"] == "loop_stopped") {
      EXPECT_EQ(f["summary"]["depth"], 3);
    }
  }
  EXPECT_EQ(outcomes, (std::map<std::string, int>{{"done", 3}, {"loop_stopped", 1}}));
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM outbox WHERE name = 'automation.loop_stopped' AND entity_id = '" + id + "'"), 1u);
}

TEST_P(RulesTest, ADryRunListsWhatTheRuleThenDoesOverGeneratedCases) {
  std::mt19937 random(GetParam() == store::Backend::sqlite ? 31 : 32);
  std::string other = records.create(ctx, "account", {{"legal_name", "Clínica Boa Vista"}, {"lifecycle", "customer"}})
                          .record["id"];
  std::string id = rule({{"trigger", {{"event", "deal.*"}}},
                         {"conditions", {{{"field", "deal.amount"}, {"op", "gte"}, {"value", 50000}},
                                         {{"field", "account.lifecycle"}, {"op", "eq"}, {"value", "customer"}},
                                         {{"field", "deal.name"}, {"op", "contains"}, {"value", "sala"}}}},
                         {"actions", {{{"type", "set_field"}, {"field", "lost_reason"}, {"value", "—"}},
                                      {{"type", "create_task"}, {"title", "Revisar {{deal.name}}"}}}}});
  const std::vector<std::string> names{"Sala cirúrgica", "Monitores", "SALA de exames", "Leitos", "Salário"};
  for (int i = 0; i < 40; ++i) {
    std::string d = deal(names[random() % names.size()], static_cast<std::int64_t>(random() % 100000),
                         random() % 2 ? account : other);
    if (random() % 3 == 0) records.move_deal_stage(ctx, d, proposal);
  }
  Json plan = dry_run(h.deps(), ctx, records.get(ctx, "automation_rule", id), 500);
  std::map<std::string, Json> planned;  // event id → actions
  for (const auto& p : plan["would_fire"]) planned[p["event_id"]] = p["actions"];
  ASSERT_FALSE(planned.empty());
  ASSERT_GT(plan["not_matched"].get<int>(), 0);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM automation_firings"), 0u);  // a dry run writes nothing

  dispatch();
  std::map<std::string, Json> fired;
  for (const auto& f : services::AutomationLog(h.deps()).firings(ctx, id, 500))
    if (f["summary"].contains("actions")) fired[f["event_id"]] = f["summary"]["actions"];
  // Each planned event fired, with the actions planned. Only the first firing per deal is
  // compared action by action: it changes what the plan of a later event of the same deal
  // saw (its set_field is then already done) — what changed in between.
  std::set<std::string> planned_events, fired_planned;
  for (const auto& [event, actions] : planned) planned_events.insert(event);
  for (const auto& [event, actions] : fired)
    if (planned.count(event)) fired_planned.insert(event);
  EXPECT_EQ(fired_planned, planned_events);
  std::map<std::string, std::string> first_of_deal;  // deal → its oldest planned event
  for (const auto& p : plan["would_fire"]) first_of_deal[p["entity"]["id"]] = p["event_id"];  // newest first
  for (const auto& [deal_id, event] : first_of_deal) {
    ASSERT_TRUE(fired.count(event)) << event;
    const Json& actions = planned[event];
    ASSERT_EQ(actions.size(), fired[event].size());
    for (std::size_t i = 0; i < actions.size(); ++i)
      EXPECT_EQ(actions[i].contains("skipped"), fired[event][i].contains("skipped")) << event << " action " << i;
  }
}

TEST_P(RulesTest, AMessageActionSendsThroughTheChannelOnlyWithALegalBasis) {
  services::ChannelAccountService accounts(h.deps());
  std::string channel =
      accounts.create(ctx, {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", "106540352242922"}})["id"];
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "test-node");
  std::vector<Json> handed;
  services::ChannelSender accept = [&](const std::string&, const services::CallContext&, const Json& message) {
    handed.push_back(message);
    return std::optional<services::ChannelSendResult>(
        services::ChannelSendResult{services::ChannelSendResult::Kind::sent, Json::object(), ""});
  };
  jobs.add(services::channel_delivery_job(h.deps(), accept, 3, h.clock));
  channels.jobs = &jobs;
  channels.traits_of = [](const std::string&) { return services::ChannelTraits{"whatsapp", 24}; };
  events::Dispatcher sending(h.deps().worker_database, h.clock, {}, "test-node-2");
  sending.add({"kernel:automation-send", "*", rules_subscriber(h.deps(), h.clock, channels, settings).deliver});
  sending.run_once();

  services::ConsentService(h.deps()).define_purpose(ctx, "marketing_whatsapp", {{"description", "ofertas"}});
  std::string buyer = records.create(ctx, "contact", {{"name", "Dra. Helena"}, {"phone", "+5511987654321"},
                                                      {"account_id", account}})
                          .record["id"];
  std::string id = rule({{"trigger", {{"stage_entered", proposal}}},
                         {"actions", {{{"type", "send_message"}, {"channel_account_id", channel},
                                       {"to", {{"deal_role", "economic_buyer"}}}, {"purpose", "marketing_whatsapp"},
                                       {"template", {{"name", "proposta_enviada"}, {"language", "pt_BR"},
                                                     {"components", {{{"type", "body"}, {"parameters",
                                                       {{{"type", "text"}, {"text", "{{deal.name}}"}}}}}}}}}}}}});
  std::string d = records
                      .create(ctx, "deal", {{"name", "Autoclaves"}, {"account_id", account}, {"pipeline_id", pipeline},
                                            {"stage_id", qualification}, {"owner_id", owner},
                                            {"contacts", {{{"contact_id", buyer}, {"role", "economic_buyer"}}}}})
                      .record["id"];
  records.move_deal_stage(ctx, d, proposal);
  while (sending.run_once() > 0) {
  }
  auto firings = services::AutomationLog(h.deps()).firings(ctx, id, 10);
  ASSERT_EQ(firings.size(), 1u);
  EXPECT_EQ(firings[0]["outcome"], "failed");  // no consent to that purpose yet
  EXPECT_NE(firings[0]["summary"]["error"]["message"].get<std::string>().find("purpose"), std::string::npos);

  services::ConsentService(h.deps()).record(ctx, buyer, {{"purpose", "marketing_whatsapp"}, {"action", "grant"},
                                                          {"legal_basis", "consent"},
                                                          {"source", {{"type", "form"}, {"reference", "stand"}}},
                                                          {"notice", "Aviso de privacidade v3"}});
  records.move_deal_stage(ctx, d, qualification);
  records.move_deal_stage(ctx, d, proposal);
  while (sending.run_once() > 0) {
  }
  jobs.run_once();
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0]["to"], "+5511987654321");
  EXPECT_NE(handed[0].dump().find("Autoclaves"), std::string::npos) << handed[0].dump();
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM interactions WHERE contact_id = '" + buyer + "' AND direction = 'outbound'"), 1u);
}

TEST_P(RulesTest, ADirectoryOfRulesAppliesByKeyAndAgainChangesNothing) {
  test::TempDir dir;
  Json document = big_deal_rule(proposal);
  document["key"] = "big_proposal";
  document["name"] = "Proposta grande";
  write_file(dir.path() + "/big.json", document.dump());
  auto files = read_rule_files(dir.path());
  Json dry = apply_rule_files(h.deps(), ctx, files, true);
  EXPECT_EQ(dry["changes"].size(), 1u);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM automation_rules"), 0u);
  Json applied = apply_rule_files(h.deps(), ctx, files, false);
  EXPECT_EQ(applied["changes"][0]["op"], "create");
  EXPECT_TRUE(apply_rule_files(h.deps(), ctx, files, false)["changes"].empty());
  document["actions"][0]["title"] = "Ligar: {{deal.name}}";
  write_file(dir.path() + "/big.json", document.dump());
  Json changed = apply_rule_files(h.deps(), ctx, read_rule_files(dir.path()), false);
  ASSERT_EQ(changed["changes"].size(), 1u);
  EXPECT_EQ(changed["changes"][0]["fields"], Json::array({"actions"}));
  document["actions"][0]["title"] = "{{deal.nickname}}";
  write_file(dir.path() + "/big.json", document.dump());
  Error e = error_of([&] { apply_rule_files(h.deps(), ctx, read_rule_files(dir.path()), false); });
  ASSERT_EQ(e.code(), ErrorCode::validation);
  EXPECT_EQ(e.fields().at(0).field, "big.json#/actions/0/title");
}

TEST_P(RulesTest, AnIdleDealFiresOncePerQuietSpellAndTheDryRunListsItFirst) {
  std::string id = rule({{"trigger", {{"idle_days", 10}, {"entity", "deal"}}},
                         {"conditions", {{{"field", "deal.stage_id"}, {"op", "eq"}, {"value", proposal}}}},
                         {"actions", {{{"type", "create_task"}, {"title", "{{deal.name}} parado há 10 dias"}}}}});
  std::string quiet = deal("Tomógrafo", 300000), elsewhere = deal("Macas", 9000);
  records.move_deal_stage(ctx, quiet, proposal);
  h.clock.advance_micros(11 * day);
  Json plan = dry_run(h.deps(), ctx, records.get(ctx, "automation_rule", id), 100);
  ASSERT_EQ(plan["would_fire"].size(), 1u);
  EXPECT_EQ(plan["would_fire"][0]["entity"]["id"], quiet);
  EXPECT_EQ(plan["would_fire"][0]["actions"][0]["task"]["title"], "Tomógrafo parado há 10 dias");
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 1);
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 0);  // the same spell
  EXPECT_EQ(tasks_from(id), 1u);
  // A message on the deal is activity: ten quiet days later it fires again.
  records.create(ctx, "interaction", {{"type", "call"}, {"direction", "outbound"}, {"deal_id", quiet},
                                      {"occurred_at", format_rfc3339(h.clock.now())}});
  h.clock.advance_micros(5 * day);
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 0);
  h.clock.advance_micros(6 * day);
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 1);
  EXPECT_EQ(tasks_from(id), 2u);
  (void)elsewhere;
}

TEST_P(RulesTest, AScheduleFiresOncePerPeriodOnTheTenantsClockAndAnOverdueTaskOncePerDueTime) {
  records.update(ctx, "account", account, {{"lifecycle", "customer"}});
  std::string weekly = rule({{"trigger", {{"schedule", "cron 0 8 * * 1"}, {"entity", "account"}}},
                             {"conditions", {{{"field", "account.lifecycle"}, {"op", "eq"}, {"value", "customer"}}}},
                             {"actions", {{{"type", "create_task"}, {"title", "Revisão semanal: {{account.legal_name}}"}}}}});
  std::string overdue = rule({{"trigger", {{"task_overdue", true}}},
                              {"actions", {{{"type", "emit_event"}, {"name", "task_overdue"},
                                            {"data", {{"title", "{{task.title}}"}}}}}}});
  std::string late = records.create(ctx, "task", {{"title", "Enviar edital"}, {"due_at", "2026-07-02T12:00:00Z"}}).record["id"];
  h.clock.advance_micros(5 * day + 8 * hour + 30 * minute);  // Monday 2026-07-06 08:30 UTC
  Json first = scan_time_rules(h.deps(), ctx, channels, settings);
  EXPECT_EQ(first["fired"], 2) << first.dump();  // the customer's review, the late task
  h.clock.advance_micros(15 * minute);
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 0);
  EXPECT_EQ(tasks_from(weekly), 1u);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM outbox WHERE name = 'custom.task_overdue' AND entity_id = '" + late + "'"), 1u);
  h.clock.advance_micros(7 * day);  // the next Monday, 08:45: a new review, and last week's is late
  EXPECT_EQ(scan_time_rules(h.deps(), ctx, channels, settings)["fired"], 2);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM outbox WHERE name = 'custom.task_overdue'"), 2u);
  EXPECT_EQ(tasks_from(weekly), 2u);
  (void)overdue;
}

// A rule kept in git names stages by "<pipeline key>/<stage key>": checked when saved,
// resolved to the tenant's stage when it runs.
TEST_P(RulesTest, StagesNamedByKeyAreCheckedAndResolved) {
  records.update(ctx, "pipeline", pipeline, {{"key", "hospitais"}});
  records.update(ctx, "stage", proposal, {{"key", "proposta"}});
  std::string contract = stage({{"name", "Contrato"}, {"position", 2}, {"key", "contrato"}});
  Error unknown = error_of([&] {
    rule({{"trigger", {{"stage_entered", "hospitais/nenhum"}}}, {"actions", {{{"type", "move_stage"}, {"stage_id", "x/y/z"}}}}});
  });
  ASSERT_EQ(unknown.code(), ErrorCode::validation);
  std::set<std::string> fields;
  for (const auto& f : unknown.fields()) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"/trigger/stage_entered", "/actions/0/stage_id"})) << unknown.what();

  std::string id = rule({{"trigger", {{"stage_entered", "hospitais/proposta"}}},
                         {"conditions", {{{"field", "deal.stage_id"}, {"op", "in"}, {"value", {"hospitais/proposta"}}}}},
                         {"actions", {{{"type", "move_stage"}, {"stage_id", "hospitais/contrato"}}}}});
  EXPECT_EQ(records.get(ctx, "automation_rule", id)["trigger"]["stage_entered"], "hospitais/proposta");  // kept as written
  std::string d = deal("Autoclave", 10);
  records.move_deal_stage(ctx, d, proposal);
  dispatch();
  EXPECT_EQ(records.get(ctx, "deal", d)["stage_id"], contract);
}

TEST_P(RulesTest, TheShippedExamplesApplyAndFireAsTheyDescribe) {
  // Some name stages of the hospital-supply pipeline template by key.
  std::ifstream pipelines(std::string(NUCLEO_SOURCE_DIR) + "/config/examples/pipelines/hospital-supply.json");
  apply_pipeline_document(h.deps(), ctx, Json::parse(pipelines), false);
  auto files = read_rule_files(std::string(NUCLEO_SOURCE_DIR) + "/config/examples/automation");
  ASSERT_GE(files.size(), 5u);
  Json applied = apply_rule_files(h.deps(), ctx, files, false);
  EXPECT_EQ(applied["changes"].size(), files.size());
  // Enabled, the hospital rule gives a hospital's new deal its task and no other deal one.
  store::RecordQuery q;
  q.equals = {{"key", "hospital_new_deal_cnes_check"}};
  std::string id = records.list(ctx, "automation_rule", q).at(0)["id"];
  records.update(ctx, "automation_rule", id, {{"enabled", true}});
  std::string hospital = records.create(ctx, "account", {{"legal_name", "Hospital São Lucas"}, {"owner_id", owner},
                                                         {"attributes", {{"segment", "hospital"}}}})
                             .record["id"];
  deal("Monitores multiparâmetro", 120000, hospital);
  deal("Café", 500);
  dispatch();
  EXPECT_EQ(tasks_from(id), 1u);
}

// Issue #32 with automation: a stage entered sends the deal's open proposal (frozen, a
// link issued, as the rule); a view of its link is an event a rule reacts to.
TEST_P(RulesTest, ARuleSendsTheDealsProposalAndAnotherReactsToItsViews) {
  std::string d = deal("Tomógrafos", 250000);
  std::string p = records
                      .create(ctx, "proposal", {{"deal_id", d}, {"title", "Tomógrafos 2027"},
                                                {"lines", {{{"description", "Tomógrafo"}, {"quantity", 1}, {"unit_price", 900000}}}}})
                      .record["id"];
  rule({{"trigger", {{"stage_entered", proposal}}}, {"actions", {{{"type", "send_proposal"}, {"link_days", 5}}}}});
  std::string follow_up = rule({{"trigger", {{"event", "proposal.viewed"}}},
                                {"actions", {{{"type", "create_task"}, {"title", "{{proposal.title}} foi vista: ligar"}}}}});
  records.move_deal_stage(ctx, d, proposal);
  dispatch();
  Json sent = records.get(ctx, "proposal", p);
  EXPECT_EQ(sent["status"], "sent");
  EXPECT_EQ(sent["sent_revision"], 1);
  services::ProposalService proposals(h.deps());
  auto links = proposals.links(ctx, p);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM audit_pending WHERE action = 'proposal.sent' AND actor_type = 'rule'"), 1);
  std::string path = links[0]["path"];
  EXPECT_EQ(proposals.page(ctx, path.substr(path.rfind('/') + 1)).status, 200);
  dispatch();
  ASSERT_EQ(tasks_from(follow_up), 1u);
  store::RecordQuery q;
  q.equals = {{"origin_rule", "rule:" + follow_up}};
  EXPECT_EQ(records.list(ctx, "task", q)[0]["title"], "Tomógrafos 2027 foi vista: ligar");
  // A rule naming a proposal action's unknown field is refused when saved.
  Error e = error_of([&] {
    rule({{"trigger", {{"stage_entered", proposal}}}, {"actions", {{{"type", "send_proposal"}, {"link_days", 0}}}}});
  });
  ASSERT_EQ(e.code(), ErrorCode::validation);
  EXPECT_EQ(e.fields()[0].field, "/actions/0/link_days");
}

INSTANTIATE_TEST_SUITE_P(Backends, RulesTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::automation
