// Reads of what a deployment marks sensitive are audited (docs/architecture.md §5): a whole entity
// type, or one plugin attribute when a record has it; other reads stay unrecorded.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/audited_reads.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/customer_view.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class SensitiveReadsTest : public testing::TestWithParam<store::Backend> {
 protected:
  SensitiveReadsTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    h.sensitive = SensitiveData::parse("interaction:phi, account.attributes.finance.credit_limit:financial");
  }

  // The sensitive-read events recorded so far: [entity id, disclosed parts].
  std::vector<std::pair<std::string, Json>> reads() {
    std::vector<std::pair<std::string, Json>> out;
    for (const auto& changes : h.json_column("SELECT changes FROM audit_pending WHERE action LIKE '%.sensitive_read'"
                                             " ORDER BY seq"))
      out.emplace_back("", changes["disclosed"]["to"]);
    auto ids = h.json_column("SELECT '\"' || entity_id || '\"' FROM audit_pending WHERE action LIKE '%.sensitive_read'"
                             " ORDER BY seq");
    for (std::size_t i = 0; i < out.size(); ++i) out[i].first = ids[i];
    return out;
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
};

TEST_P(SensitiveReadsTest, ReadingASensitiveTypeIsRecordedPerRecord) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Hospital Santa Luzia"}}).record["id"];
  std::string a = records.log_interaction(ctx, {{"type", "visit"}, {"direction", "outbound"}, {"account_id", account},
                                                 {"body", "Discussed oncology purchases"}}).record["id"];
  std::string b = records.log_interaction(ctx, {{"type", "note"}, {"direction", "internal"}}).record["id"];
  EXPECT_TRUE(reads().empty());  // writes are audited as writes, not reads

  records.get(ctx, "interaction", a);
  ASSERT_EQ(reads().size(), 1u);
  EXPECT_EQ(reads()[0].first, a);
  EXPECT_EQ(reads()[0].second, Json::array({"*:phi"}));

  records.list_rendered(ctx, "interaction", {{}, "", 50, false});
  records.list(ctx, "interaction", {{}, "", 50, false});
  records.search(ctx, "interaction", {{"filter_groups", {{{"filters", {{{"field", "type"}, {"op", "eq"}, {"value", "note"}}}}}}}},
                 Json());
  auto all = reads();
  ASSERT_EQ(all.size(), 1u + 2u + 2u + 1u);
  EXPECT_EQ(all.back().first, b);

  records.get(ctx, "account", account);  // not marked
  records.list_rendered(ctx, "account", {{}, "", 50, false});
  EXPECT_EQ(reads().size(), 6u);

  // The account timeline shows interactions whole: that is a read of them too.
  CustomerView(h.deps()).timeline(ctx, account, Json(), 50);
  ASSERT_EQ(reads().size(), 7u);
  EXPECT_EQ(reads().back().first, a);
}

TEST_P(SensitiveReadsTest, AMarkedAttributeIsRecordedOnlyWhereARecordHasIt) {
  std::string plain = records.create(ctx, "account", {{"legal_name", "Agro Vale"}}).record["id"];
  std::string scored = records.create(ctx, "account", {{"legal_name", "Cooperativa Serra"},
                                                       {"attributes", {{"finance.credit_limit", 250000000}}}})
                           .record["id"];

  records.get(ctx, "account", plain);
  EXPECT_TRUE(reads().empty());
  records.get(ctx, "account", scored);
  records.list_rendered(ctx, "account", {{}, "", 50, false});
  auto all = reads();
  ASSERT_EQ(all.size(), 2u);
  for (const auto& [id, disclosed] : all) {
    EXPECT_EQ(id, scored);
    EXPECT_EQ(disclosed, Json::array({"attributes.finance.credit_limit:financial"}));
  }

  // Reads are in the record's history but are not versions of it.
  audit::Sequencer sequencer(h.deps().worker_database, h.clock);
  while (sequencer.run_once() > 0) {
  }
  Json history = AuditService(h.deps()).history(ctx, "account", scored, h.clock.now().micros);
  EXPECT_EQ(history["versions"].size(), 3u);  // created + two reads
  EXPECT_EQ(history["record"], records.get(ctx, "account", scored));
}

// ABI 1.7: a plugin marks its own attribute sensitive where it declares it; the marks
// follow what is declared, beside the deployment's own.
TEST_P(SensitiveReadsTest, APluginsSensitiveAttributeIsRecordedAsTheDeploymentsAre) {
  h.sensitive.consult(h.attribute_schemas);
  h.attribute_schemas.add("org.nucleo.healthcare", "contact",
                          {{"health.council_registration", {{"type", "string"}, {"sensitive", "pii"}}}});
  std::string doctor = records.create(ctx, "contact", {{"name", "Dra. Helena"},
                                                        {"attributes", {{"health.council_registration", "CRM-SP 1"}}}})
                           .record["id"];
  std::string clerk = records.create(ctx, "contact", {{"name", "Ivo"}}).record["id"];
  records.get(ctx, "contact", clerk);
  EXPECT_TRUE(reads().empty());
  records.get(ctx, "contact", doctor);
  auto all = reads();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, doctor);
  EXPECT_EQ(all[0].second, Json::array({"attributes.health.council_registration:pii"}));

  EXPECT_THROW(h.attribute_schemas.add("org.nucleo.other", "contact", {{"other.x", {{"type", "string"}, {"sensitive", "secret"}}}}),
               Error);
  h.attribute_schemas.remove_owner("org.nucleo.healthcare");  // a plugin that failed to load takes its marks along
  records.get(ctx, "contact", doctor);
  EXPECT_EQ(reads().size(), 1u);
}

TEST(SensitiveData, TheListNamesItsMistakes) {
  EXPECT_NO_THROW(SensitiveData::parse(""));
  EXPECT_NO_THROW(SensitiveData::parse(" contact , interaction:phi "));
  for (const char* bad : {"patient:phi", "deal:secret", "deal.amount", "deal.attributes.", "user.attributes.x"}) {
    try {
      SensitiveData::parse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation);
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

// Issue #29: reads' audit events by group commit. Many readers at once each return only
// once their own event is committed — every one is there when its call returns, once —
// and a reader whose event the database refuses fails alone, not the batch it was in.
TEST_P(SensitiveReadsTest, ConcurrentAuditedReadsShareCommitsAndEachReturnsOnlyOnceItsEventIsDurable) {
  AuditedReads group(h.database());
  constexpr int readers = 8, reads_each = 25;
  std::atomic<int> missing_on_return{0}, refused{0}, wrongly_refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < readers; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < reads_each; ++i) {
        bool bad = t == 0 && i % 5 == 0;  // a NUL in the action: the database side refuses it
        audit::AuditEvent e = audit_event(ctx, bad ? std::string("x.read\0", 7) : std::string("x.read"), "account",
                                          "acc_" + std::to_string(t) + "_" + std::to_string(i), h.clock.now());
        try {
          group.record(h.tenant, {e});
          if (h.count("SELECT count(*) FROM audit_pending WHERE id = '" + e.id + "'") != 1) ++missing_on_return;
        } catch (const Error&) {
          ++(bad ? refused : wrongly_refused);
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(missing_on_return, 0);
  EXPECT_EQ(wrongly_refused, 0);
  EXPECT_EQ(refused, 5);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'x.read'"), readers * reads_each - 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, SensitiveReadsTest, testing::Values(store::Backend::postgresql, store::Backend::sqlite),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
