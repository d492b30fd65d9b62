// Issue #33, plugin ABI 1.10 read_snapshot on both backends: every row of a tenant from ONE
// snapshot (a write made between two chunks is not seen), nothing personal in it, narrowed
// reads, who may read, and the audit event a whole read leaves.
#include "kernel/services/snapshot_read.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/principal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class SnapshotReadTest : public testing::TestWithParam<store::Backend> {
 protected:
  SnapshotReadTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {}

  std::string create(const std::string& type, const Json& data) { return records.create(ctx, type, data).record["id"]; }

  // Every line of a read, with the chunks it came in.
  std::vector<Json> read(const CallContext& as, const Json& request, std::vector<std::size_t>* chunks = nullptr,
                         const std::function<void()>& between_chunks = {}) {
    std::vector<Json> rows;
    SnapshotRead(h.deps()).run(as, request, [&](const std::string& jsonl) {
      std::size_t n = 0;
      for (std::size_t at = 0; at < jsonl.size();) {
        std::size_t end = jsonl.find('\n', at);
        rows.push_back(Json::parse(jsonl.substr(at, end - at)));
        at = end + 1;
        ++n;
      }
      if (chunks) chunks->push_back(n);
      if (between_chunks) between_chunks();
      return true;
    });
    return rows;
  }

  struct Tenant {
    std::string account, contact, pipeline, open, won, deal, other_deal;
  };
  Tenant seed() {
    Tenant t;
    t.account = create("account", {{"legal_name", "Hospital Santa Clara"}});
    t.contact = create("contact", {{"name", "Ana Souza"}, {"email", "ana.souza@santaclara.org.br"},
                                   {"account_id", t.account}, {"job_title", "Diretora de Compras"}});
    t.pipeline = create("pipeline", {{"name", "Hospitais"}});
    t.open = create("stage", {{"pipeline_id", t.pipeline}, {"name", "Proposta"}, {"position", 1}, {"probability", 40}});
    t.won = create("stage", {{"pipeline_id", t.pipeline}, {"name", "Ganho"}, {"position", 2}, {"probability", 100}, {"kind", "won"}});
    t.deal = create("deal", {{"name", "Proposta Ana Souza"}, {"account_id", t.account}, {"pipeline_id", t.pipeline},
                             {"stage_id", t.open}, {"amount", 12000000},
                             {"contacts", {{{"contact_id", t.contact}, {"role", "decisora"}}}}});
    t.other_deal = create("deal", {{"name", "Renovação"}, {"account_id", create("account", {{"legal_name", "Clínica Boa Vista"}})},
                                   {"pipeline_id", t.pipeline}, {"stage_id", t.open}});
    records.log_interaction(ctx, {{"type", "email"}, {"direction", "inbound"}, {"deal_id", t.deal}, {"account_id", t.account},
                                  {"contact_id", t.contact}, {"subject", "Contrato de Ana"}, {"body", "Segue o CPF 529.982.247-25"}});
    records.move_deal_stage(ctx, t.deal, t.won, std::nullopt, "");
    return t;
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
};

TEST_P(SnapshotReadTest, ReadsEveryKindWithoutAnythingPersonal) {
  Tenant t = seed();
  auto rows = read(ctx, Json::object());
  std::map<std::string, int> kinds;
  for (const auto& r : rows) ++kinds[r["kind"].get<std::string>()];
  EXPECT_EQ(kinds["deal"], 2);
  EXPECT_EQ(kinds["stage"], 2);
  EXPECT_EQ(kinds["interaction"], 1);
  EXPECT_EQ(kinds["deal_stage_history"], 3);  // two deals opened, one moved
  EXPECT_EQ(kinds["contact"], 1);
  std::string all;
  for (const auto& r : rows) all += r.dump();
  for (const char* personal : {"Ana Souza", "ana.souza", "529.982.247-25", "Contrato", "Hospital Santa Clara", "Proposta Ana"})
    EXPECT_EQ(all.find(personal), std::string::npos) << personal << " is in the snapshot";
  for (const auto& r : rows)
    if (r["kind"] == "deal" && r["id"] == t.deal) {
      EXPECT_EQ(r["amount"], 12000000);
      EXPECT_EQ(r["contacts"][0]["role"], "decisora");
    } else if (r["kind"] == "contact") {
      EXPECT_EQ(r["job_title"], "Diretora de Compras");
      EXPECT_EQ(r["consent_granted"], Json::array()) << "no consent recorded";
    }
  // A grant shows as its purpose's name, nothing more (who, when and how stay in the ledger).
  ConsentService consents(h.deps());
  consents.define_purpose(ctx, "marketing_email", {{"description", "newsletters"}});
  consents.record(ctx, t.contact, {{"purpose", "marketing_email"}, {"action", "grant"}, {"legal_basis", "consent"},
                                   {"notice", "v1"}});
  for (const auto& r : read(ctx, {{"kinds", {"contact"}}}))
    EXPECT_EQ(r["consent_granted"], Json{"marketing_email"}) << r;
}

// Every expected close a deal is given is kept with when (migration 0039), so how often
// it slipped can be read back; a change of anything else adds nothing.
TEST_P(SnapshotReadTest, KeepsEachExpectedCloseADealWasGiven) {
  Tenant t = seed();
  records.update(ctx, "deal", t.other_deal, {{"expected_close", "2026-08-01"}}, std::nullopt);
  h.clock.advance_micros(std::int64_t{20} * 24 * 3600 * 1'000'000);
  records.update(ctx, "deal", t.other_deal, {{"amount", 5000}}, std::nullopt);
  records.update(ctx, "deal", t.other_deal, {{"expected_close", "2026-09-15"}}, std::nullopt);
  records.update(ctx, "deal", t.other_deal, {{"expected_close", nullptr}}, std::nullopt);
  std::vector<Json> closes;
  for (const auto& r : read(ctx, {{"kinds", {"deal_close_history"}}})) closes.push_back(r);
  ASSERT_EQ(closes.size(), 3u);
  std::sort(closes.begin(), closes.end(), [](const Json& a, const Json& b) {
    return a["changed_at"] != b["changed_at"] ? a["changed_at"] < b["changed_at"] : a["expected_close"].is_string();
  });
  EXPECT_EQ(closes[0]["deal_id"], t.other_deal);
  EXPECT_EQ(closes[0]["expected_close"], "2026-08-01");
  EXPECT_EQ(closes[1]["expected_close"], "2026-09-15");
  EXPECT_EQ(closes[1]["changed_at"].get<std::int64_t>() - closes[0]["changed_at"].get<std::int64_t>(),
            std::int64_t{20} * 24 * 3600 * 1'000'000);
  EXPECT_TRUE(closes[2]["expected_close"].is_null()) << "cleared";
  auto narrowed = read(ctx, {{"deal_ids", {t.deal}}, {"kinds", {"deal_close_history"}}});
  EXPECT_TRUE(narrowed.empty()) << "another account's deal";
}

TEST_P(SnapshotReadTest, EveryChunkReadsTheSameSnapshot) {
  Tenant t = seed();
  for (int i = 0; i < 5; ++i)
    create("deal", {{"name", "Lote " + std::to_string(i)}, {"account_id", t.account}, {"pipeline_id", t.pipeline},
                    {"stage_id", t.open}});
  // A write committed after the first chunk — a new deal and a stage move — is seen by
  // none of the chunks that follow.
  std::vector<std::size_t> chunks;
  bool wrote = false;
  auto rows = read(ctx, {{"kinds", {"deal", "deal_stage_history"}}, {"chunk_rows", 2}}, &chunks, [&] {
    if (wrote) return;
    wrote = true;
    h.records().create(ctx, "deal", {{"name", "Depois"}, {"account_id", t.account}, {"pipeline_id", t.pipeline},
                                     {"stage_id", t.open}});
    h.records().move_deal_stage(ctx, t.other_deal, t.won, std::nullopt, "");
  });
  EXPECT_GT(chunks.size(), 3u);
  int deals = 0, history = 0;
  for (const auto& r : rows) {
    deals += r["kind"] == "deal";
    history += r["kind"] == "deal_stage_history";
    if (r["kind"] == "deal" && r["id"] == t.other_deal) {
      EXPECT_EQ(r["stage_id"], t.open);
    }
  }
  EXPECT_EQ(deals, 7);
  EXPECT_EQ(history, 8);  // 7 opened, 1 moved
}

TEST_P(SnapshotReadTest, ANarrowedReadHoldsWhatRescoringOneDealNeeds) {
  Tenant t = seed();
  auto rows = read(ctx, {{"deal_ids", {t.deal}}});
  for (const auto& r : rows) {
    if (r["kind"] == "deal") {
      EXPECT_EQ(r["account_id"], t.account);  // its account's deals only
    } else if (r["kind"] == "account") {
      EXPECT_EQ(r["id"], t.account);
    } else if (r["kind"] == "interaction" || r["kind"] == "task") {
      EXPECT_EQ(r["deal_id"], t.deal);
    }
  }
  int deals = 0;
  for (const auto& r : rows) deals += r["kind"] == "deal";
  EXPECT_EQ(deals, 1);
  EXPECT_THROW(read(ctx, {{"deal_ids", Json::array()}}), Error);
  EXPECT_THROW(read(ctx, {{"kinds", {"deal", "passwords"}}}), Error);
  EXPECT_THROW(read(ctx, {{"chunk_rows", 0}}), Error);
}

TEST_P(SnapshotReadTest, IsForManagersAuditorsAndTheKernelAndAuditedOnce) {
  seed();
  auto as = [&](const std::string& role) {
    CallContext c = ctx;
    auto p = std::make_shared<Principal>();
    p->key_id = "key_test";
    p->role = role;
    c.principal = p;
    return c;
  };
  EXPECT_THROW(read(as("sales"), Json::object()), Error);
  EXPECT_NO_THROW(read(as("auditor"), Json::object()));
  CallContext kernel = ctx;
  kernel.principal = nullptr;
  EXPECT_NO_THROW(read(kernel, {{"kinds", {"stage"}}}));
  EXPECT_NO_THROW(read(kernel, {{"deal_ids", {"deal_none"}}}));  // narrowed: not audited
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'snapshot.read'") +
                h.count("SELECT count(*) FROM audit_log WHERE action = 'snapshot.read'"),
            2);
}

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotReadTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
