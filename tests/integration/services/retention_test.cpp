// Retention on both backends (issue #30, docs/compliance.md "Retention"): a dry run lists
// exactly what the run then touches, a legal hold keeps its subject, a policy in its grace
// period touches nothing, and an expired interaction or plugin document leaves no sealed
// copy of what it said in the audit trail.
#include <gtest/gtest.h>

#include <set>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/services/retention.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t day = 86'400'000'000;

std::set<std::string> ids_in(const Json& result, const std::string& key) {
  std::set<std::string> out;
  for (const auto& p : result["policies"])
    if (p["key"] == key)
      for (const auto& r : p["records"]) out.insert(r["id"].get<std::string>());
  return out;
}

const Json& policy_in(const Json& result, const std::string& key) {
  for (const auto& p : result["policies"])
    if (p["key"] == key) return p;
  static const Json none;
  return none;
}

using test::error_of;

class RetentionTest : public testing::TestWithParam<store::Backend> {
 protected:
  RetentionTest() : h(GetParam()), records(h.records()), retention(h.deps()), ctx(h.context(h.tenant)),
                    sequencer(h.deps().worker_database, h.clock) {}

  std::string contact(const std::string& name) {
    return records.create(ctx, "contact", {{"name", name}, {"email", name.substr(0, name.find(' ')) + "@example.com"}})
        .record["id"];
  }
  std::string interaction(const std::string& contact_id, const std::string& type, const std::string& body) {
    return records.create(ctx, "interaction", {{"type", type}, {"direction", "inbound"}, {"contact_id", contact_id},
                                               {"body", body}}).record["id"];
  }
  void sequence() {
    while (sequencer.run_once() > 0) {
    }
  }

  test::ServiceHarness h;
  RecordService records;
  RetentionService retention;
  CallContext ctx;
  audit::Sequencer sequencer;
};

TEST_P(RetentionTest, TheDryRunIsWhatTheRunTouchesAndAHoldKeepsItsSubject) {
  std::string quiet = contact("Quieta Silva"), talked = contact("Falou Antes"), held = contact("Retida Lima");
  interaction(talked, "whatsapp", "Mensagem de dois anos atrás");
  PrivacyService(h.deps()).place_hold(ctx, held, "Procon complaint 2026-118");
  h.clock.advance_micros(800 * day);
  std::string active = contact("Ativa Souza");
  std::string lately = contact("Recente Costa");
  records.create(ctx, "interaction", {{"type", "email"}, {"direction", "inbound"}, {"contact_id", lately}, {"body", "Olá"},
                                      {"occurred_at", format_rfc3339(Timestamp{h.clock.now().micros - 400 * day})}});

  Json defined = retention.define_policy(ctx, "stale_leads", {{"description", "leads with no activity for two years"},
                                                              {"entity", "contact"}, {"after_days", 730}});
  EXPECT_EQ(defined["enabled"], true);
  EXPECT_EQ(defined["grace_ends_at"], format_rfc3339(Timestamp{h.clock.now().micros + 7 * day}));

  // In its grace period the policy shows what it would take, and takes nothing.
  Json early = retention.plan(ctx);
  EXPECT_EQ(policy_in(early, "stale_leads")["status"], "in_grace");
  EXPECT_EQ(ids_in(early, "stale_leads"), (std::set<std::string>{quiet, talked}));
  EXPECT_EQ(policy_in(early, "stale_leads")["held"], 1);
  Json graced = retention.run(ctx);
  EXPECT_EQ(policy_in(graced, "stale_leads")["touched"], 0);
  EXPECT_TRUE(records.get(ctx, "contact", quiet)["erased_at"].is_null());

  h.clock.advance_micros(8 * day);
  Json plan = retention.plan(ctx);
  EXPECT_EQ(policy_in(plan, "stale_leads")["status"], "due");
  Json ran = retention.run(ctx);
  EXPECT_EQ(ids_in(ran, "stale_leads"), ids_in(plan, "stale_leads"));
  EXPECT_EQ(ids_in(ran, "stale_leads"), (std::set<std::string>{quiet, talked}));
  EXPECT_EQ(policy_in(ran, "stale_leads")["touched"], 2);
  EXPECT_EQ(policy_in(ran, "stale_leads")["held"], 1);
  for (const auto& id : {quiet, talked}) EXPECT_EQ(records.get(ctx, "contact", id)["name"], "Erased contact");
  for (const auto& id : {held, active, lately}) EXPECT_TRUE(records.get(ctx, "contact", id)["erased_at"].is_null()) << id;
  store::RecordQuery hers;
  hers.equals = {{"contact_id", talked}};
  EXPECT_TRUE(records.list(ctx, "interaction", hers).at(0)["body"].is_null());

  // Nothing left for the next run; both runs are on record, the last with its summary.
  EXPECT_TRUE(ids_in(retention.plan(ctx), "stale_leads").empty());
  auto runs = retention.runs(ctx, 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_FALSE(runs[0]["finished_at"].is_null());
  EXPECT_EQ(runs[0]["summary"][0]["touched"], 2);
  sequence();
  AuditQuery q;
  q.entity_type = "retention_run";
  q.limit = 10;
  EXPECT_EQ(AuditService(h.deps()).events(ctx, q).events.size(), 2u);
}

TEST_P(RetentionTest, APurposeNarrowsAPolicyAndBadPoliciesAreNamed) {
  ConsentService consents(h.deps());
  consents.define_purpose(ctx, "marketing_email", {{"description", "ofertas"}});
  std::string lead = contact("Lead Frio"), subscriber = contact("Assinante Fiel");
  consents.record(ctx, subscriber, {{"purpose", "marketing_email"}, {"action", "grant"}, {"legal_basis", "consent"},
                                    {"notice", "v1"}});
  h.clock.advance_micros(200 * day);
  retention.define_policy(ctx, "unsubscribed_leads", {{"description", "leads without marketing consent"},
                                                      {"entity", "contact"}, {"after_days", 180},
                                                      {"purpose_not_granted", "marketing_email"}});
  EXPECT_EQ(ids_in(retention.plan(ctx), "unsubscribed_leads"), (std::set<std::string>{lead}));

  auto field = [&](const std::string& key, const Json& body) {
    Error e = error_of([&] { retention.define_policy(ctx, key, body); });
    EXPECT_EQ(e.code(), ErrorCode::validation) << body;
    return e.fields().empty() ? std::string() : e.fields()[0].field;
  };
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "deal"}, {"after_days", 10}}), "entity");
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "contact"}, {"after_days", 0}}), "after_days");
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "contact"}, {"after_days", 10}, {"purpose_not_granted", "nope"}}),
            "purpose_not_granted");
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "interaction"}, {"after_days", 10}, {"types", {"fax"}}}), "types");
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "contact"}, {"after_days", 10}, {"types", {"email"}}}), "types");
  EXPECT_EQ(field("x", {{"description", "d"}, {"entity", "plugin_record"}, {"after_days", 10}, {"plugin_id", "p"},
                        {"collection", "none"}, {"date_field", "d"}}), "collection");
  EXPECT_EQ(field("Bad Key", {{"description", "d"}, {"entity", "contact"}, {"after_days", 10}}), "key");
  CallContext auditor = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "auditor";
  auditor.principal = principal;
  EXPECT_EQ(error_of([&] { retention.run(auditor); }).code(), ErrorCode::forbidden);
  EXPECT_NO_THROW(retention.plan(auditor));
}

TEST_P(RetentionTest, ExpiredContentLeavesNoSealedCopyInTheTrail) {
  std::string maria = contact("Maria Souza");
  std::string old_message = interaction(maria, "whatsapp", "Meu CPF é 123.456.789-09");
  std::string old_note = interaction(maria, "note", "Nota interna antiga");
  // A finance pack's KYC documents: kept five years after the relationship ends.
  h.deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO plugin_collections (plugin_id, collection, indexes, personal, plugin_version, recorded_at)"
                   " VALUES ('com.example.finance', 'kyc', '{\"contact_id\":\"string\",\"ended_on\":\"string\"}',"
                   " '{\"subject_field\":\"contact_id\",\"fields\":[\"full_name\"],\"on_erasure\":\"delete\"}', '1.0.0', 0)",
                   {});
  });
  std::map<std::string, CollectionSpec> collections{
      {"kyc", {{{"contact_id", "string"}, {"ended_on", "string"}}, nullptr, PersonalData{"contact_id", {"full_name"}, "delete"}, ""}}};
  PluginRecordService kyc(h.deps(), "com.example.finance", collections);
  kyc.put(ctx, "kyc", "k1", {{"contact_id", maria}, {"full_name", "Maria Souza"}, {"ended_on", "2026-07-01"}});
  kyc.put(ctx, "kyc", "k2", {{"contact_id", maria}, {"full_name", "Maria S."}, {"ended_on", "2031-12-01"}});
  h.clock.advance_micros(1830 * day);
  std::string recent = interaction(maria, "whatsapp", "Mensagem nova");
  retention.define_policy(ctx, "message_bodies", {{"description", "channel message contents after five years"},
                                                  {"entity", "interaction"}, {"after_days", 1825},
                                                  {"types", {"whatsapp", "email"}}});
  retention.define_policy(ctx, "kyc_after_relationship", {{"description", "KYC five years after the relationship ends"},
                                                          {"entity", "plugin_record"}, {"after_days", 1825},
                                                          {"plugin_id", "com.example.finance"}, {"collection", "kyc"},
                                                          {"date_field", "ended_on"}});
  h.clock.advance_micros(8 * day);
  Json plan = retention.plan(ctx);
  Json ran = retention.run(ctx);
  EXPECT_EQ(ids_in(ran, "message_bodies"), (std::set<std::string>{old_message}));
  EXPECT_EQ(ids_in(ran, "message_bodies"), ids_in(plan, "message_bodies"));
  EXPECT_EQ(ids_in(ran, "kyc_after_relationship"), (std::set<std::string>{"com.example.finance/kyc/k1"}));
  EXPECT_EQ(ids_in(ran, "kyc_after_relationship"), ids_in(plan, "kyc_after_relationship"));

  EXPECT_TRUE(records.get(ctx, "interaction", old_message)["body"].is_null());
  EXPECT_EQ(records.get(ctx, "interaction", old_note)["body"], "Nota interna antiga");
  EXPECT_EQ(records.get(ctx, "interaction", recent)["body"], "Mensagem nova");
  EXPECT_EQ(records.get(ctx, "contact", maria)["name"], "Maria Souza");  // she stays; what expired goes
  EXPECT_EQ(error_of([&] { kyc.get(ctx, "kyc", "k1"); }).code(), ErrorCode::not_found);
  EXPECT_EQ(kyc.get(ctx, "kyc", "k2")["document"]["full_name"], "Maria S.");

  // The trail keeps its commitments, and no longer opens what the message said.
  sequence();
  Json history = AuditService(h.deps()).history(ctx, "interaction", old_message, std::nullopt);
  const Json& first = history["versions"][0]["changes"]["body"]["to"];
  EXPECT_TRUE(first.is_object() && first.value("erased", false)) << history;
  EXPECT_EQ(history.dump().find("123.456.789-09"), std::string::npos);
  Json kept = AuditService(h.deps()).history(ctx, "interaction", recent, std::nullopt);
  EXPECT_EQ(kept["versions"][0]["changes"]["body"]["to"], "Mensagem nova");
}

INSTANTIATE_TEST_SUITE_P(Backends, RetentionTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return std::string(store::to_string(info.param)); });

}  // namespace
}  // namespace nucleo::services
