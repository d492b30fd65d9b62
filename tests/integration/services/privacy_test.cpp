// Erasure and legal holds on both backends: after erasing a contact her name, e-mail
// and phone are nowhere — business rows, contact points, interaction bodies, audit
// values, idempotent replies, outbox payloads, the database files — and the audit log
// still proves every event it held.
#include <gtest/gtest.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/idempotency_service.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/services/privacy_service.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

const std::string name = "Maria Aparecida Souza";
const std::string email = "maria.souza@agro-vale.com.br";
const std::string phone = "+5511987654321";
const std::string job_title = "Compradora-Chefe de Sementes em Ituiutaba";

ErrorCode code_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::internal;  // "did not throw" reads as a wrong code in the assertion
}

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class PrivacyTest : public testing::TestWithParam<store::Backend> {
 protected:
  PrivacyTest()
      : h(GetParam()), records(h.records()), privacy(h.deps()), ctx(h.context(h.tenant)),
        sequencer(h.deps().worker_database, h.clock) {
    // The contact as an API client would have left her: created with an idempotency
    // key, edited, with interactions whose bodies quote her details.
    contact = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"email", email}}).record["id"];
    std::string answer = records.get(ctx, "contact", contact).dump();
    h.deps().database.write(h.tenant, [&](store::Transaction& tx) {
      IdempotencyService::Attempt attempt{"POST /v1/contacts", "create-maria", "fingerprint"};
      IdempotencyService::begin_in(tx, ctx, attempt);
      IdempotencyService::complete_in(tx, ctx, attempt, 201, answer);
    });
    records.update(ctx, "contact", contact, {{"name", name}, {"phone", "(11) 98765-4321"}, {"job_title", job_title}},
                   std::nullopt);
    for (int i = 0; i < 2; ++i)
      interactions.push_back(records
                                 .log_interaction(ctx, {{"type", "call"},
                                                        {"direction", "inbound"},
                                                        {"contact_id", contact},
                                                        {"subject", "Ligação de " + name},
                                                        {"body", name + " asked to be called on " + phone + " or " + email}})
                                 .record["id"]);
    other = records.create(ctx, "contact", {{"name", "João Pereira"}, {"email", "joao@coop.com.br"}}).record["id"];
    sequence_everything();
  }

  void sequence_everything() {
    while (sequencer.run_once() > 0) {
    }
  }

  test::ServiceHarness h;
  RecordService records;
  PrivacyService privacy;
  CallContext ctx;
  audit::Sequencer sequencer;
  std::string contact, other;
  std::vector<std::string> interactions;
};

TEST_P(PrivacyTest, ErasedPersonalDataIsFoundNowhereAndTheLogStaysProvable) {
  for (const auto& value : {name, email, phone}) ASSERT_FALSE(h.places_holding(value).empty()) << value;
  audit::TreeHead before = h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
    return audit::read_tree_head(tx, h.tenant);
  });

  // A webhook delivery still queued carries her event; another tenant's job is not hers.
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "node-a");
  jobs.add({"kernel:webhooks.deliver", std::nullopt, events::JobScope::tenant, [](const Json&) { return std::string(); }});
  Json envelope = {{"entity", {{"type", "contact"}, {"id", contact}}}, {"data", {{"record", {{"name", name}, {"email", email}}}}}};
  jobs.enqueue("kernel:webhooks.deliver", h.tenant, {{"webhook_id", "whk_x"}, {"event", envelope}}, h.clock.now());
  std::string elsewhere = h.create_tenant("Elsewhere");
  jobs.enqueue("kernel:webhooks.deliver", elsewhere, {{"webhook_id", "whk_y"}, {"mentions", contact}}, h.clock.now());

  ErasureReport report = privacy.erase_contact(ctx, contact, "LGPD art. 18 VI request #4471");
  EXPECT_EQ(report.jobs_purged, 1u);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 1);  // the other tenant's stays
  EXPECT_EQ(report.interactions, 2u);
  // created: name, e-mail; updated: name from/to, phone, job title; 2 subjects and 2
  // bodies; erased: the "from"s of name, e-mail, phone, job title, 2 subjects and 2
  // bodies (the placeholders written are nobody's data).
  EXPECT_EQ(report.sealed_values_destroyed, 2u + 4u + 4u + 8u);
  EXPECT_GE(report.idempotency_records_purged, 1u);
  EXPECT_GE(report.outbox_events_purged, 4u);
  sequence_everything();

  h.vacuum();  // PostgreSQL: the runbook step of docs/compliance.md
  for (const auto& value : {name, email, phone, std::string("98765-4321"), job_title})
    EXPECT_EQ(h.places_holding(value), std::vector<std::string>{}) << value;

  // What the API shows: an anonymised contact, bodies gone, nothing found by her name.
  Json erased = records.get(ctx, "contact", contact);
  EXPECT_EQ(erased["name"], "Erased contact");
  EXPECT_TRUE(erased["email"].is_null());
  EXPECT_TRUE(erased["phone"].is_null());
  EXPECT_TRUE(erased["job_title"].is_null());
  EXPECT_FALSE(erased["erased_at"].is_null());
  for (const auto& id : interactions) EXPECT_TRUE(records.get(ctx, "interaction", id)["body"].is_null());
  EXPECT_TRUE(records
                  .search(ctx, "contact",
                          {{"filter_groups",
                            {{{"filters", {{{"field", "name"}, {"op", "contains"}, {"value", "Aparecida"}}}}}}}},
                          Json())
                  .records.empty());
  EXPECT_EQ(records.get(ctx, "contact", other)["email"], "joao@coop.com.br");  // others untouched

  // The history keeps every version and its commitments; the values no longer open.
  Json history = AuditService(h.deps()).history(ctx, "contact", contact, std::nullopt);
  ASSERT_EQ(history["versions"].size(), 3u);  // created, updated, erased
  EXPECT_EQ(history["versions"][0]["changes"]["email"]["to"]["erased"], true);
  EXPECT_EQ(history["versions"][2]["action"], "contact.erased");
  EXPECT_EQ(history["versions"][2]["reason"], "LGPD art. 18 VI request #4471");
  EXPECT_EQ(history["versions"][2]["changes"]["name"]["to"], "Erased contact");
  EXPECT_EQ(history.dump().find("Souza"), std::string::npos);

  // Every event the log held before is still proven by the new tree.
  h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
    audit::TreeHead now = audit::read_tree_head(tx, h.tenant);
    EXPECT_GT(now.size, before.size);
    auto c = audit::prove_consistency(tx, h.tenant, before.size, now.size);
    EXPECT_TRUE(audit::verify_consistency(before.size, now.size, before.root, now.root, c.proof));
    EXPECT_EQ(audit::root_at(tx, h.tenant, before.size), before.root);
  });
  // The erasure itself is an event on the data subject.
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_log WHERE action = 'privacy.subject_erased' AND entity_id = '" +
                    contact + "'"),
            1);
}

TEST_P(PrivacyTest, AnInteractionLinkedToHerAfterItWasLoggedLosesItsEarlierBodyToo) {
  // Logged with nobody, its body sealed under the interaction's own key; linked later.
  std::string late = records.log_interaction(ctx, {{"type", "note"}, {"direction", "internal"},
                                                   {"body", "Follow up with " + email}}).record["id"];
  records.update(ctx, "interaction", late, {{"contact_id", contact}}, std::nullopt);
  privacy.erase_contact(ctx, contact, "customer request");
  sequence_everything();
  Json history = AuditService(h.deps()).history(ctx, "interaction", late, std::nullopt);
  ASSERT_EQ(history["versions"].size(), 3u);  // logged, linked, erased
  EXPECT_EQ(history["versions"][0]["changes"]["body"]["to"]["erased"], true);
  EXPECT_EQ(history.dump().find(email), std::string::npos);
}

TEST_P(PrivacyTest, ALegalHoldBlocksErasureUntilLiftedAndBothAreAudited) {
  Json hold = privacy.place_hold(ctx, contact, "Lawsuit 0012345-67.2026.8.26.0100");
  EXPECT_EQ(hold["active"], true);
  EXPECT_EQ(code_of([&] { privacy.erase_contact(ctx, contact, "customer request"); }), ErrorCode::conflict);
  std::string refusal = message_of([&] { privacy.erase_contact(ctx, contact, "customer request"); });
  EXPECT_NE(refusal.find(hold["id"].get<std::string>()), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("Lawsuit 0012345"), std::string::npos) << refusal;
  EXPECT_EQ(records.get(ctx, "contact", contact)["email"], email);  // nothing half-done

  Json lifted = privacy.lift_hold(ctx, hold["id"], "case closed");
  EXPECT_EQ(lifted["active"], false);
  EXPECT_EQ(lifted["lift_reason"], "case closed");
  EXPECT_EQ(code_of([&] { privacy.lift_hold(ctx, hold["id"], "again"); }), ErrorCode::conflict);
  privacy.erase_contact(ctx, contact, "customer request");
  EXPECT_EQ(code_of([&] { privacy.erase_contact(ctx, contact, "twice"); }), ErrorCode::conflict);

  sequence_everything();
  Json placed = AuditService(h.deps()).history(ctx, "privacy_hold", hold["id"], std::nullopt);
  ASSERT_EQ(placed["versions"].size(), 2u);
  EXPECT_EQ(placed["versions"][0]["action"], "privacy.hold_placed");
  EXPECT_EQ(placed["versions"][1]["action"], "privacy.hold_lifted");
  EXPECT_EQ(placed["versions"][1]["reason"], "case closed");
  EXPECT_EQ(privacy.holds(ctx, contact).size(), 1u);
}

TEST_P(PrivacyTest, BadRequestsAreRefusedWithTheirReason) {
  EXPECT_EQ(code_of([&] { privacy.erase_contact(ctx, contact, "  "); }), ErrorCode::validation);
  EXPECT_EQ(code_of([&] { privacy.erase_contact(ctx, contact, std::string(1001, 'x')); }), ErrorCode::validation);
  EXPECT_EQ(code_of([&] { privacy.erase_contact(ctx, "con_missing", "request"); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { privacy.place_hold(ctx, "con_missing", "lawsuit"); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { privacy.lift_hold(ctx, "hold_missing", "done"); }), ErrorCode::not_found);
  CallContext manager = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "manager";
  manager.principal = principal;
  EXPECT_EQ(code_of([&] { privacy.erase_contact(manager, contact, "request"); }), ErrorCode::forbidden);
  EXPECT_EQ(code_of([&] { privacy.place_hold(manager, contact, "lawsuit"); }), ErrorCode::forbidden);
  EXPECT_EQ(records.get(ctx, "contact", contact)["name"], name);
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyTest, testing::Values(store::Backend::postgresql, store::Backend::sqlite),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
