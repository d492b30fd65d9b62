// A record's audited history on both backends: every version in order, and the
// record rebuilt as of any instant equal to what the API returned at that instant.
#include <gtest/gtest.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/consent_service.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class HistoryTest : public testing::TestWithParam<store::Backend> {
 protected:
  HistoryTest()
      : h(GetParam()), records(h.records()), audit_reads(h.deps()), ctx(h.context(h.tenant)),
        sequencer(h.deps().worker_database, h.clock) {}

  void sequence_everything() {
    while (sequencer.run_once() > 0) {
    }
  }
  // One step of the script: the write, then the record as the API shows it, one
  // second later.
  void step(const std::function<void()>& write) {
    h.clock.advance_micros(1'000'000);
    write();
    h.clock.advance_micros(1'000'000);
    states.push_back({h.clock.now().micros, records.get(ctx, "contact", id)});
  }

  test::ServiceHarness h;
  RecordService records;
  AuditService audit_reads;
  CallContext ctx;
  audit::Sequencer sequencer;
  std::string id;
  std::vector<std::pair<std::int64_t, Json>> states;
};

TEST_P(HistoryTest, AsOfRebuildsTheRecordAtEveryStepOfAnEditHistory) {
  std::int64_t before_creation = h.clock.now().micros;
  Json account = records.create(ctx, "account", {{"legal_name", "Cooperativa Serra Verde"}}).record;
  step([&] {
    id = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"email", "maria@agro.com.br"}}).record["id"];
  });
  step([&] { records.update(ctx, "contact", id, {{"phone", "+55 11 98765-4321"}, {"job_title", "Compradora"}}, 1); });
  step([&] { records.update(ctx, "contact", id, {{"account_id", account["id"]}, {"email", "m.souza@agro.com.br"}}, 2); });
  step([&] { records.update(ctx, "contact", id, {{"job_title", nullptr}}, 3); });
  // The consent ledger's state is a field of the contact, rebuilt like any other.
  ConsentService(h.deps()).define_purpose(ctx, "marketing_whatsapp", {{"description", "promoções"}});
  step([&] {
    ConsentService(h.deps()).record(ctx, id, {{"purpose", "marketing_whatsapp"}, {"action", "grant"},
                                              {"legal_basis", "consent"}, {"notice", "aviso v1"}});
  });
  step([&] { records.archive(ctx, "contact", id, 5); });
  step([&] { records.restore(ctx, "contact", id, 6); });
  step([&] { records.update(ctx, "contact", id, {{"attributes", {{"agro.safra", "2026/27"}}}}, 7); });
  sequence_everything();

  for (const auto& [at, expected] : states) {
    Json history = audit_reads.history(ctx, "contact", id, at);
    EXPECT_EQ(history["record"], expected) << "as of " << format_rfc3339(Timestamp{at});
  }
  // Between two steps the record is still the earlier one.
  EXPECT_EQ(audit_reads.history(ctx, "contact", id, states[2].first + 500'000)["record"], states[2].second);
  // Before it existed there is no record, and no version.
  Json early = audit_reads.history(ctx, "contact", id, before_creation);
  EXPECT_TRUE(early["record"].is_null());
  EXPECT_TRUE(early["versions"].empty());
}

TEST_P(HistoryTest, VersionsListEveryChangeWithItsActorReasonAndProof) {
  id = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"email", "maria@agro.com.br"}}).record["id"];
  ctx.reason = "customer asked to update her e-mail";
  records.update(ctx, "contact", id, {{"email", "m.souza@agro.com.br"}}, 1);
  sequence_everything();

  Json history = audit_reads.history(ctx, "contact", id, std::nullopt);
  ASSERT_EQ(history["versions"].size(), 2u);
  const Json& created = history["versions"][0];
  const Json& updated = history["versions"][1];
  EXPECT_EQ(created["action"], "contact.created");
  EXPECT_EQ(created["changes"]["name"]["to"], "Maria Souza");  // personal values opened for the auditor
  EXPECT_EQ(updated["action"], "contact.updated");
  EXPECT_EQ(updated["reason"], "customer asked to update her e-mail");
  EXPECT_EQ(updated["actor"]["id"], "key_test");
  EXPECT_EQ(updated["changes"], (Json{{"email", {{"from", "maria@agro.com.br"}, {"to", "m.souza@agro.com.br"}}}}));
  EXPECT_FALSE(history.contains("record"));

  // The proof link proves the version's leaf hash against the tree head.
  std::uint64_t size = history["tree_size"];
  std::uint64_t seq = updated["seq"];
  EXPECT_EQ(updated["proof"], "/v1/audit/proof/inclusion?seq=" + std::to_string(seq) + "&tree_size=" + std::to_string(size));
  auto proof = audit_reads.inclusion(ctx, seq, size);
  EXPECT_EQ(audit::to_base64(proof.leaf_hash), updated["leaf_hash"]);
  EXPECT_TRUE(audit::verify_inclusion(seq, size, proof.leaf_hash, proof.proof, audit_reads.head(ctx).root));
}

TEST_P(HistoryTest, ARecordTheLogNeverSawIsNotFoundAndOnlyAuditorsRead) {
  EXPECT_THROW(
      {
        try {
          audit_reads.history(ctx, "contact", "con_nothing", std::nullopt);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::not_found);
          throw;
        }
      },
      Error);
  CallContext sales = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "sales";
  sales.principal = principal;
  EXPECT_THROW(audit_reads.history(sales, "contact", "con_nothing", std::nullopt), Error);
}

TEST_P(HistoryTest, ExportsWalkTheWholeLogPageByPageInOrder) {
  h.deps().database.in_one_transaction(h.tenant, [&] {  // one commit: 2,100 events in a second
    for (int i = 0; i < 2100; ++i) records.create(ctx, "account", {{"legal_name", "Cooperativa " + std::to_string(i)}});
  });
  sequence_everything();
  std::int64_t next = 0;
  audit_reads.for_each_event(ctx, {}, [&](const audit::LoggedEvent& e) {
    EXPECT_EQ(e.seq, next++);
    return true;
  });
  EXPECT_EQ(next, static_cast<std::int64_t>(audit_reads.head(ctx).size));
  EXPECT_GT(next, 2100);
  // A consumer that stops (a client gone) ends the walk.
  int seen = 0;
  audit_reads.for_each_event(ctx, {}, [&](const audit::LoggedEvent&) { return ++seen < 5; });
  EXPECT_EQ(seen, 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, HistoryTest, testing::Values(store::Backend::postgresql, store::Backend::sqlite),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
