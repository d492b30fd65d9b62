// Issue #31, cadences: steps at the right local working times, each sent once with the
// enrolment moved past it in one transaction; stopped by a reply on any channel, a stage
// change, a revoked consent; the per-contact gap; a failing step retried and visible — on
// both backends, time driven by the harness clock (2026-07-01T00:00:00Z, a Wednesday:
// 21:00 of Tuesday in São Paulo).
#include <gtest/gtest.h>

#include "kernel/automation/cadences.hpp"
#include "kernel/automation/rules.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/cadence_enrolments.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/channel_delivery.hpp"
#include "kernel/services/consent_service.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::automation {
namespace {

using services::RecordService;
using test::error_of;

constexpr std::int64_t minute = 60'000'000, hour = 60 * minute, day = 24 * hour;

class CadencesTest : public testing::TestWithParam<store::Backend> {
 protected:
  CadencesTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)), jobs(h.deps().worker_database, h.clock, {}, "test-node") {
    register_stage_gates(h.validators);
    register_rule_checks(h.validators);
    register_cadence_checks(h.validators);
    services::ChannelSender accept = [this](const std::string&, const services::CallContext&, const Json& message) {
      handed.push_back(message);
      return std::optional<services::ChannelSendResult>(
          services::ChannelSendResult{services::ChannelSendResult::Kind::sent, Json::object(), ""});
    };
    jobs.add(services::channel_delivery_job(h.deps(), accept, 3, h.clock));
    channels.jobs = &jobs;
    channels.traits_of = [](const std::string&) { return services::ChannelTraits{"whatsapp", 24}; };
    channel = services::ChannelAccountService(h.deps())
                  .create(ctx, {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", "106540352242922"}})["id"];
    consents.define_purpose(ctx, "prospeccao", {{"description", "contato comercial"}});
    owner = records.create(ctx, "user", {{"name", "Rita"}, {"email", "rita@coop.example"}, {"role", "sales"},
                                         {"time_zone", "America/Sao_Paulo"}})
                .record["id"];
    account = records.create(ctx, "account", {{"legal_name", "Cooperativa Vale Verde"}}).record["id"];
    ana = records.create(ctx, "contact", {{"name", "Ana"}, {"phone", "+5511987654321"}, {"account_id", account},
                                          {"owner_id", owner}})
              .record["id"];
    grant(ana);
    cadence = records
                  .create(ctx, "cadence",
                          {{"name", "Insumos da safra"},
                           {"key", "insumos_safra"},
                           {"purpose", "prospeccao"},
                           {"steps", {{{"delay_days", 0}, {"type", "message"}, {"channel_account_id", channel},
                                       {"text", "Olá {{contact.name}}, tudo bem?"},
                                       {"template", {{"name", "boas_vindas"}, {"language", "pt_BR"},
                                                     {"components", {{{"type", "body"}, {"parameters",
                                                       {{{"type", "text"}, {"text", "{{contact.name}}"}}}}}}}}}},
                                      {{"delay_days", 2}, {"type", "message"}, {"channel_account_id", channel},
                                       {"template", {{"name", "oferta_safra"}, {"language", "pt_BR"}}}},
                                      {{"delay_days", 5}, {"type", "task"}, {"title", "Ligar para {{contact.name}}"}}}}})
                  .record["id"];
    dispatcher.add(cadence_stops_subscriber(h.deps(), h.clock));
    dispatcher.add(rules_subscriber(h.deps(), h.clock, channels, {}));
    dispatcher.run_once();
  }
  void grant(const std::string& contact) {
    consents.record(ctx, contact, {{"purpose", "prospeccao"}, {"action", "grant"}, {"legal_basis", "consent"},
                                   {"source", {{"type", "form"}, {"reference", "feira"}}}, {"notice", "Aviso v1"}});
  }
  Json run() {
    Json result = run_due_steps(h.deps(), ctx, channels, 100);
    jobs.run_once();
    return result;
  }
  void at(const std::string& instant) {
    h.clock.advance_micros(parse_rfc3339(instant)->micros - h.clock.now().micros);
  }
  Json enrolment(const std::string& id) { return services::CadenceEnrolmentService(h.deps()).get(ctx, id); }
  void dispatch() {
    while (dispatcher.run_once() > 0) {
    }
  }

  test::ServiceHarness h;
  RecordService records;
  services::CallContext ctx;
  services::ConsentService consents{h.deps()};
  events::JobQueue jobs;
  ChannelAccess channels;
  std::vector<Json> handed;
  std::string channel, owner, account, ana, cadence;
  events::Dispatcher dispatcher{h.deps().worker_database, h.clock, {}, "test-node"};
};

TEST_P(CadencesTest, StepsFallInTheOwnersWorkingHoursAndEachIsSentOnce) {
  Json e = enrol_contact(h.deps(), ctx, cadence, ana, "");
  EXPECT_EQ(e["next_at"], "2026-07-01T12:00:00Z");  // 09:00 in São Paulo, not 21:00 the day before
  EXPECT_EQ(run()["done"], 0);
  at("2026-07-01T12:00:00Z");
  EXPECT_EQ(run()["done"], 1);
  EXPECT_EQ(run()["done"], 0);  // the step is behind it
  ASSERT_EQ(handed.size(), 1u);
  // Ana never wrote on WhatsApp: outside the 24-hour window the step's template goes, filled.
  EXPECT_NE(handed[0].dump().find("boas_vindas"), std::string::npos) << handed[0].dump();
  EXPECT_NE(handed[0].dump().find("\"Ana\""), std::string::npos) << handed[0].dump();
  EXPECT_EQ(enrolment(e["id"])["next_at"], "2026-07-03T12:00:00Z");  // day 2, Friday 09:00 local
  at("2026-07-03T12:00:00Z");
  EXPECT_EQ(run()["done"], 1);
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_NE(handed[1].dump().find("oferta_safra"), std::string::npos);
  EXPECT_EQ(enrolment(e["id"])["next_at"], "2026-07-06T12:00:00Z");  // day 5 is Monday
  at("2026-07-06T12:00:00Z");
  EXPECT_EQ(run()["done"], 1);
  Json done = enrolment(e["id"]);
  EXPECT_EQ(done["status"], "completed");
  ASSERT_EQ(done["history"].size(), 3u);
  EXPECT_TRUE(done["history"][2].contains("task_id"));
  EXPECT_EQ(records.get(ctx, "task", done["history"][2]["task_id"])["title"], "Ligar para Ana");
  EXPECT_EQ(h.count("SELECT COUNT(*) FROM interactions WHERE contact_id = '" + ana + "' AND direction = 'outbound'"), 2u);
  // Enrolling again while active keeps the one enrolment; after completion a new one starts.
  Json again = enrol_contact(h.deps(), ctx, cadence, ana, "");
  EXPECT_NE(again["id"], e["id"]);
  EXPECT_EQ(enrol_contact(h.deps(), ctx, cadence, ana, "")["id"], again["id"]);
}

TEST_P(CadencesTest, AReplyOnAnyChannelStopsTheCadence) {
  std::string mailbox = services::ChannelAccountService(h.deps())
                            .create(ctx, {{"plugin_id", "org.nucleo.email"}, {"external_id", "vendas@coop.example"}})["id"];
  records.update(ctx, "contact", ana, {{"email", "ana@vale.example"}});
  Json e = enrol_contact(h.deps(), ctx, cadence, ana, "");
  at("2026-07-01T12:00:00Z");
  run();
  h.clock.advance_micros(hour);
  services::ConversationService(h.deps())
      .receive(ctx, mailbox, {{"external_id", "<r1@vale.example>"}, {"type", "email"},
                              {"from", {{"email", "ana@vale.example"}}}, {"text", "Tenho interesse"}});
  dispatch();
  Json stopped = enrolment(e["id"]);
  EXPECT_EQ(stopped["status"], "stopped");
  EXPECT_EQ(stopped["stop_reason"], "replied");
  at("2026-07-03T12:00:00Z");
  EXPECT_EQ(run()["done"], 0);
  EXPECT_EQ(handed.size(), 1u);
}

// A pass's replies are stopped together (one transaction a tenant) as they would be one by
// one: a contact's enrolment made after her reply goes on, an enrolled contact's reply
// stops hers, a reply of someone in no cadence changes nothing, and a stage change read
// between them still stops the deal's enrolment with its own reason.
TEST_P(CadencesTest, RepliesReadInOnePassStopWhatEachWouldOnItsOwn) {
  std::string bia = records.create(ctx, "contact", {{"name", "Bia"}, {"phone", "+5521987650000"}, {"account_id", account}})
                        .record["id"];
  grant(bia);
  std::string cid = records.create(ctx, "contact", {{"name", "Caio"}, {"phone", "+5531987651111"}}).record["id"];
  grant(cid);
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Safra"}}).record["id"];
  std::string first = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Contato"}, {"position", 0}}).record["id"];
  std::string next = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 1}}).record["id"];
  std::string deal = records.create(ctx, "deal", {{"name", "Insumos 2027"}, {"account_id", account}, {"pipeline_id", pipeline},
                                                  {"stage_id", first}})
                         .record["id"];
  Json ana_enrolled = enrol_contact(h.deps(), ctx, cadence, ana, "");
  Json cid_enrolled = enrol_contact(h.deps(), ctx, cadence, cid, deal);
  dispatch();
  h.clock.advance_micros(hour);
  auto whatsapp = [](const std::string& id, const std::string& from) {
    return Json{{"external_id", id}, {"type", "whatsapp"}, {"from", {{"phone", from}}}, {"text", "Oi"}};
  };
  services::ConversationService conversations(h.deps());
  conversations.receive_many(ctx, channel, Json::array({whatsapp("wamid.R1", "+5521987650000")}));  // Bia, before hers
  h.clock.advance_micros(hour);
  Json bia_enrolled = enrol_contact(h.deps(), ctx, cadence, bia, "");
  h.clock.advance_micros(hour);
  records.move_deal_stage(ctx, deal, next);
  conversations.receive_many(ctx, channel, Json::array({whatsapp("wamid.R2", "+5511987654321"),    // Ana
                                                        whatsapp("wamid.R3", "+5531900009999")}));  // a new lead
  dispatch();
  EXPECT_EQ(enrolment(bia_enrolled["id"])["status"], "active") << "enrolled after her reply";
  Json ana_now = enrolment(ana_enrolled["id"]);
  EXPECT_EQ(ana_now["status"], "stopped");
  EXPECT_EQ(ana_now["stop_reason"], "replied");
  Json cid_now = enrolment(cid_enrolled["id"]);
  EXPECT_EQ(cid_now["status"], "stopped");
  EXPECT_EQ(cid_now["stop_reason"], "stage_changed");
}

TEST_P(CadencesTest, ARevokedConsentStopsTheCadenceBeforeTheNextStep) {
  Json e = enrol_contact(h.deps(), ctx, cadence, ana, "");
  at("2026-07-01T12:00:00Z");
  run();
  consents.record(ctx, ana, {{"purpose", "prospeccao"}, {"action", "revoke"}});
  at("2026-07-03T12:00:00Z");
  EXPECT_EQ(run()["stopped"], 1);
  EXPECT_EQ(enrolment(e["id"])["stop_reason"], "consent_revoked");
  EXPECT_EQ(handed.size(), 1u);
}

TEST_P(CadencesTest, NoTwoMessagesToAContactWithinTheGap) {
  at("2026-07-01T13:00:00Z");
  services::ConversationService(h.deps())
      .send(ctx, jobs, ana,
            {{"channel_account_id", channel}, {"template", {{"name", "oi"}, {"language", "pt_BR"}}}, {"purpose", "prospeccao"}},
            channels.traits_of);
  h.clock.advance_micros(hour);
  Json e = enrol_contact(h.deps(), ctx, cadence, ana, "");
  EXPECT_EQ(run()["postponed"], 1);
  Json waiting = enrolment(e["id"]);
  EXPECT_EQ(waiting["next_at"], "2026-07-02T13:00:00Z");  // 24 hours after the last message
  EXPECT_NE(waiting["last_error"].get<std::string>().find("gap"), std::string::npos);
  at("2026-07-02T13:00:00Z");
  EXPECT_EQ(run()["done"], 1);
}

TEST_P(CadencesTest, AStepThatCannotGoIsRetriedAndVisible) {
  Json e = enrol_contact(h.deps(), ctx, cadence, ana, "");
  at("2026-07-01T12:00:00Z");
  channels.jobs = nullptr;  // the node's channels are down
  EXPECT_EQ(run()["retried"], 1);
  Json failing = enrolment(e["id"]);
  EXPECT_EQ(failing["status"], "active");
  EXPECT_EQ(failing["attempts"], 1);
  EXPECT_NE(failing["last_error"].get<std::string>().find("sends no channel messages"), std::string::npos);
  EXPECT_EQ(failing["next_at"], "2026-07-01T12:01:00Z");
  channels.jobs = &jobs;
  at("2026-07-01T12:01:00Z");
  EXPECT_EQ(run()["done"], 1);
  EXPECT_EQ(enrolment(e["id"])["attempts"], 0);
  EXPECT_EQ(handed.size(), 1u);
}

TEST_P(CadencesTest, ARuleEnrolsTheEconomicBuyerAndTheNextStageChangeStopsIt) {
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Safra"}}).record["id"];
  std::string first = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Contato"}, {"position", 0}}).record["id"];
  std::string proposal = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 1}}).record["id"];
  std::string rule = records.create(ctx, "automation_rule",
                                    {{"name", "Proposta: cadência do comprador"}, {"enabled", true},
                                     {"trigger", {{"stage_entered", proposal}}},
                                     {"actions", {{{"type", "enrol_in_cadence"}, {"cadence", "insumos_safra"},
                                                   {"to", {{"deal_role", "economic_buyer"}}}}}}})
                         .record["id"];
  std::string deal = records.create(ctx, "deal", {{"name", "Sementes"}, {"account_id", account}, {"pipeline_id", pipeline},
                                                  {"stage_id", first}, {"owner_id", owner},
                                                  {"contacts", {{{"contact_id", ana}, {"role", "economic_buyer"}}}}})
                         .record["id"];
  records.move_deal_stage(ctx, deal, proposal);
  dispatch();
  services::EnrolmentQuery q;
  q.cadence_id = cadence;
  auto enrolled = services::CadenceEnrolmentService(h.deps()).list(ctx, q);
  ASSERT_EQ(enrolled.size(), 1u);
  EXPECT_EQ(enrolled[0]["status"], "active");  // the event that enrolled her does not stop her
  EXPECT_EQ(enrolled[0]["deal_id"], deal);
  EXPECT_EQ(enrolled[0]["enrolled_by"], "rule:" + rule + "@1");
  h.clock.advance_micros(minute);
  records.move_deal_stage(ctx, deal, first);
  dispatch();
  EXPECT_EQ(enrolment(enrolled[0]["id"])["stop_reason"], "stage_changed");
}

TEST_P(CadencesTest, ARuleNamingACadenceNoOneHasIsRefused) {
  Error e = error_of([&] {
    records.create(ctx, "automation_rule", {{"name", "x"}, {"trigger", {{"event", "contact.created"}}},
                                            {"actions", {{{"type", "enrol_in_cadence"}, {"cadence", "nenhuma"}}}}});
  });
  ASSERT_EQ(e.code(), ErrorCode::validation);
  EXPECT_EQ(e.fields().at(0).field, "/actions/0/cadence");
}

TEST_P(CadencesTest, ACadenceWithAProblemIsRefusedNamingItsPointer) {
  Error e = error_of([&] {
    records.create(ctx, "cadence", {{"name", "quebrada"},
                                    {"steps", {{{"delay_days", 3}, {"type", "message"}, {"channel_account_id", channel},
                                                {"text", "{{contact.apelido}}"}},
                                               {{"delay_days", 1}, {"type", "fax"}}}},
                                    {"working_hours", {{"start", 18}, {"end", 9}}}});
  });
  ASSERT_EQ(e.code(), ErrorCode::validation);
  std::set<std::string> fields;
  for (const auto& f : e.fields()) fields.insert(f.field);
  for (const char* pointer : {"/steps/0/text", "/steps/1/delay_days", "/steps/1/type", "/purpose", "/working_hours"})
    EXPECT_TRUE(fields.count(pointer)) << pointer << " missing from " << e.what();
}

// Issue #32: a cadence's proposal step sends the deal's open proposal — frozen, its link in
// the message; on WhatsApp a document message whose PDF Meta fetches from the public link.
TEST_P(CadencesTest, AProposalStepSendsTheDealsOpenProposalWithItsLink) {
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Safra"}}).record["id"];
  records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 0}});
  std::string deal = records.create(ctx, "deal", {{"name", "Insumos 2027"}, {"account_id", account},
                                                  {"pipeline_id", pipeline}, {"owner_id", owner}})
                         .record["id"];
  std::string proposal = records
                             .create(ctx, "proposal", {{"deal_id", deal}, {"title", "Sementes e defensivos"},
                                                       {"lines", {{{"description", "Semente de soja"}, {"quantity", 100},
                                                                   {"unit_price", 25000}}}}})
                             .record["id"];
  std::string follow_up = records
                              .create(ctx, "cadence",
                                      {{"name", "Proposta"}, {"purpose", "prospeccao"},
                                       {"steps", {{{"delay_days", 0}, {"type", "proposal"}, {"channel_account_id", channel},
                                                   {"message", "Olá {{contact.name}}, segue a proposta."}}}}})
                              .record["id"];
  // In working hours, Ana wrote on WhatsApp a moment ago: its 24-hour window is open for free text.
  at("2026-07-02T12:00:00Z");
  services::ConversationService(h.deps()).receive(ctx, channel, {{"external_id", "wamid.2"}, {"type", "whatsapp"},
                                                                 {"from", {{"phone", "+5511987654321"}}}, {"text", "Pode mandar"}});
  Json sent_enrolment = enrol_contact(h.deps(), ctx, follow_up, ana, deal);
  services::ServiceDependencies deployed = h.deps();
  deployed.public_url = "https://crm.example.com";  // where WhatsApp fetches the PDF from
  run_due_steps(deployed, ctx, channels, 100);
  jobs.run_once();
  Json e = enrolment(sent_enrolment["id"]);
  ASSERT_EQ(e["status"], "completed") << e.dump();
  EXPECT_EQ(e["history"][0]["proposal_id"], proposal);
  EXPECT_EQ(records.get(ctx, "proposal", proposal)["status"], "sent");
  ASSERT_FALSE(handed.empty());
  std::string text = handed.back().dump();
  EXPECT_NE(text.find("segue a proposta"), std::string::npos) << text;
  EXPECT_NE(text.find("https://crm.example.com/v1/public/proposals/"), std::string::npos) << text;
  EXPECT_EQ(text.find("attachments"), std::string::npos) << "WhatsApp fetches the file from its link";
  const Json& document = handed.back()["content"]["document"];
  EXPECT_EQ(document["filename"], "proposta-" + proposal + "-v1.pdf");
  std::string url = document["url"];
  EXPECT_EQ(url.rfind("https://crm.example.com/v1/public/proposals/", 0), 0u);
  EXPECT_EQ(url.substr(url.size() - 4), "/pdf");
}

INSTANTIATE_TEST_SUITE_P(Backends, CadencesTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::automation
