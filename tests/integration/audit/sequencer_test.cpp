// The sequencer on both backends: pending events become a gapless, append-only,
// provable log whose leaves are canonical and hold commitments, not personal values.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/personal_data.hpp"
#include "kernel/audit/recorder.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/store/connection_pool.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::audit {
namespace {

class SequencerTest : public testing::TestWithParam<store::Backend> {
 protected:
  SequencerTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)), sequencer(h.deps().worker_database, h.clock) {}

  struct Row {
    std::int64_t seq;
    std::string leaf, leaf_hash;
  };
  std::vector<Row> log_of(const std::string& tenant) {
    return h.deps().worker_database.read("", [&](store::Transaction& tx) {
      std::vector<Row> rows;
      store::query(tx.session(), "SELECT seq, leaf, leaf_hash FROM audit_log WHERE tenant_id = :p0 ORDER BY seq",
                   {tenant}, [&](const store::Row& r) {
                     rows.push_back({store::required_integer(r, 0), store::required_text(r, 1), store::required_text(r, 2)});
                   });
      return rows;
    });
  }
  void sequence_everything() {
    while (sequencer.run_once(7) > 0) {
    }
  }

  test::ServiceHarness h;
  services::RecordService records;
  services::CallContext ctx;
  Sequencer sequencer;
};

TEST_P(SequencerTest, PendingEventsBecomeAGaplessCanonicalLogWithAProvableTree) {
  for (int i = 0; i < 20; ++i) records.create(ctx, "account", {{"legal_name", "Cooperativa " + std::to_string(i)}});
  int pending = h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant + "'");
  sequence_everything();
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), 0);

  auto rows = log_of(h.tenant);
  ASSERT_EQ(static_cast<int>(rows.size()), pending);
  MerkleFrontier tree;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<std::int64_t>(i));
    EXPECT_FALSE(check_canonical(rows[i].leaf)) << rows[i].leaf;
    EXPECT_EQ(top_level_integer(rows[i].leaf, "seq"), rows[i].seq);
    EXPECT_EQ(to_hex(leaf_hash(rows[i].leaf)), rows[i].leaf_hash);
    tree.append(leaf_hash(rows[i].leaf));
  }
  Json leaf = Json::parse(rows.back().leaf);
  EXPECT_EQ(leaf["v"], 1);
  EXPECT_EQ(leaf["tenant_id"], h.tenant);
  EXPECT_EQ(leaf["action"], "account.created");
  EXPECT_EQ(leaf["changes"]["legal_name"]["to"], "Cooperativa 19");

  h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
    TreeHead head = read_tree_head(tx, h.tenant);
    EXPECT_EQ(head.size, rows.size());
    EXPECT_EQ(head.root, tree.root());
    for (std::uint64_t size : {std::uint64_t{1}, std::uint64_t{5}, head.size}) {
      for (std::uint64_t seq = 0; seq < size; ++seq) {
        auto p = prove_inclusion(tx, h.tenant, seq, size);
        EXPECT_TRUE(verify_inclusion(p.leaf_index, p.tree_size, p.leaf_hash, p.proof, p.root));
        EXPECT_EQ(p.leaf_hash, leaf_hash(rows[seq].leaf));
        if (size == head.size) {
          EXPECT_EQ(p.root, head.root);
        }
        auto round_trip = inclusion_proof_from_json(to_json(p));
        EXPECT_EQ(round_trip.proof, p.proof);
      }
      auto c = prove_consistency(tx, h.tenant, size, head.size);
      EXPECT_TRUE(verify_consistency(c.size1, c.size2, c.root1, c.root2, c.proof));
      EXPECT_EQ(c.root2, head.root);
    }
    // Many leaves proven at once (a subject's report) give each leaf its own proof.
    for (std::uint64_t size : {std::uint64_t{5}, head.size}) {
      std::vector<std::uint64_t> seqs;
      for (int twice = 0; twice < 2; ++twice)  // any order, repeats, more than one read's worth
        for (std::uint64_t seq = size; seq-- > 0;) seqs.push_back(seq);
      auto proofs = prove_inclusions(tx, h.tenant, seqs, size);
      ASSERT_EQ(proofs.size(), seqs.size());
      for (std::size_t i = 0; i < seqs.size(); ++i)
        EXPECT_EQ(proofs[i], prove_inclusion(tx, h.tenant, seqs[i], size).proof) << "seq " << seqs[i];
    }
    EXPECT_THROW(prove_inclusions(tx, h.tenant, {0, head.size}, head.size), Error);
    EXPECT_THROW(prove_inclusion(tx, h.tenant, head.size, head.size), Error);
    EXPECT_THROW(prove_inclusion(tx, h.tenant, 0, head.size + 1), Error);
    EXPECT_THROW(prove_consistency(tx, h.tenant, 0, head.size), Error);
    EXPECT_THROW(prove_consistency(tx, h.tenant, 3, 2), Error);
    try {
      prove_consistency(tx, h.tenant, 1, head.size + 1);
      ADD_FAILURE() << "a proof to a size the log lacks";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "the log has " + std::to_string(head.size) + " events, fewer than " +
                                           std::to_string(head.size + 1));
    }
  });
}

// A batch larger than one statement's rows (256) and of no round size is written in
// power-of-two chunks: every row lands once and the tree matches.
TEST_P(SequencerTest, LargeBatchesAreWrittenWhole) {
  services::RecordService records_of(h.deps());
  h.deps().database.in_one_transaction(h.tenant, [&] {
    for (int i = 0; i < 299; ++i) records_of.create(ctx, "account", {{"legal_name", "Fazenda " + std::to_string(i)}});
  });
  int pending = h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant + "'");
  ASSERT_GT(pending, 256);
  int all_pending = h.count("SELECT count(*) FROM audit_pending");
  EXPECT_EQ(sequencer.run_once(1000), static_cast<std::size_t>(all_pending));
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), 0);
  auto rows = log_of(h.tenant);
  ASSERT_EQ(static_cast<int>(rows.size()), pending);
  MerkleFrontier tree;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<std::int64_t>(i));
    tree.append(leaf_hash(rows[i].leaf));
  }
  h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
    EXPECT_EQ(read_tree_head(tx, h.tenant).root, tree.root());
    auto p = prove_inclusion(tx, h.tenant, 257, rows.size());
    EXPECT_TRUE(verify_inclusion(257, rows.size(), p.leaf_hash, p.proof, tree.root()));
  });
}

TEST_P(SequencerTest, PersonalValuesAreCommittedInTheLeafAndSealedUnderTheSubjectsKey) {
  Json contact = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"email", "maria@agro.com.br"}}).record;
  records.update(ctx, "contact", contact["id"], {{"email", "m.souza@agro.com.br"}}, std::nullopt);
  // Nothing on the way to the log holds the values in the clear: not the pending
  // events, not the sealed values.
  for (const char* table : {"audit_pending", "audit_sealed_values"}) {
    for (const auto& row : h.json_column(std::string("SELECT ") + (std::string(table) == "audit_pending" ? "changes" : "'\"' || sealed || '\"'") +
                                         " FROM " + table)) {
      EXPECT_EQ(row.dump().find("maria@agro"), std::string::npos) << table;
      EXPECT_EQ(row.dump().find("Maria Souza"), std::string::npos) << table;
    }
  }
  EXPECT_EQ(h.count("SELECT count(*) FROM privacy_subject_keys WHERE subject_id = '" + contact["id"].get<std::string>() + "'"), 1);
  sequence_everything();
  auto rows = log_of(h.tenant);
  int with_commitments = 0;
  for (const auto& row : rows) {
    EXPECT_EQ(row.leaf.find("maria@agro.com.br"), std::string::npos);
    EXPECT_EQ(row.leaf.find("Maria Souza"), std::string::npos);
    Json leaf = Json::parse(row.leaf);
    if (!leaf["changes"].contains("email")) continue;
    ++with_commitments;
    EXPECT_TRUE(leaf["changes"]["email"]["to"].contains("commitment"));
    // The subject's key opens the sealed value, and it matches the leaf's commitment.
    Json opened = h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
      PersonalValueOpener opener(tx, h.tenant, "l.id = :p1", {leaf["id"].get<std::string>()});
      return opener.open(leaf["id"], leaf["changes"]);
    });
    if (leaf["action"] == "contact.created") {
      EXPECT_EQ(opened["email"]["to"], "maria@agro.com.br");
      EXPECT_EQ(opened["name"]["to"], "Maria Souza");
    } else {
      EXPECT_EQ(opened["email"]["from"], "maria@agro.com.br");
      EXPECT_EQ(opened["email"]["to"], "m.souza@agro.com.br");
    }
  }
  EXPECT_EQ(with_commitments, 2);  // the create and the update

  // Destroying the key leaves commitments that no longer open; the leaves are unchanged.
  h.deps().database.write(h.tenant, [&](store::Transaction& tx) {
    EXPECT_EQ(destroy_subject_key(tx, h.tenant, contact["id"]), 4u);  // name + e-mail, then e-mail from/to
    Json leaf;
    for (const auto& row : rows)
      if (Json::parse(row.leaf)["action"] == "contact.created") leaf = Json::parse(row.leaf);
    Json opened = PersonalValueOpener(tx, h.tenant, "l.id = :p1", {leaf["id"].get<std::string>()}).open(leaf["id"], leaf["changes"]);
    EXPECT_EQ(opened["email"]["to"]["erased"], true);
    EXPECT_EQ(opened["email"]["to"]["commitment"], leaf["changes"]["email"]["to"]["commitment"]);
  });
  auto after = log_of(h.tenant);
  ASSERT_EQ(after.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(after[i].leaf_hash, rows[i].leaf_hash);
}

// A batch's cache of subject keys (personal_data.hpp) seals under the key the database
// holds, asks nothing for the subjects it read, and forgets a key destroyed meanwhile: a
// value sealed after the erasure is under the subject's new key, which opens it.
TEST_P(SequencerTest, ASubjectKeyCacheSealsUnderTheStoredKeyAndForgetsADestroyedOne) {
  std::string maria = records.create(ctx, "contact", {{"name", "Maria Souza"}}).record["id"];
  std::string joao = records.create(ctx, "contact", {{"name", "João Lima"}}).record["id"];
  auto key_of = [&](store::Transaction& tx, const std::string& subject) {
    std::string key;
    store::query(tx.session(), "SELECT key FROM privacy_subject_keys WHERE subject_id = :p0", {subject},
                 [&](const store::Row& r) { key = store::required_text(r, 0); });
    return key;
  };
  // Opens the value `seal_personal_values` sealed for event `id` (its "name" "to").
  auto opens = [&](store::Transaction& tx, const std::string& subject, const std::string& id) {
    std::string sealed;
    store::query(tx.session(), "SELECT sealed FROM audit_sealed_values WHERE event_id = :p0 AND subject_id = :p1",
                 {id, subject}, [&](const store::Row& r) { sealed = store::required_text(r, 0); });
    auto plain = unseal(hash_from_hex(key_of(tx, subject)).value_or(Hash{}), sealed_value_aad(id, "name", "to"),
                        from_base64(sealed).value_or(""));
    return plain && plain->size() > 32 ? Json::parse(plain->substr(32)) : Json();
  };
  Json change = {{"name", {{"from", nullptr}, {"to", "Maria S."}}}};
  h.deps().database.write(h.tenant, [&](store::Transaction& tx) {
    SubjectKeyCache cache(tx, h.tenant, {maria, joao, "con_nobody"});
    ASSERT_EQ(SubjectKeyCache::of(tx), &cache);
    EXPECT_TRUE(cache.key_of(h.tenant, maria));
    EXPECT_FALSE(cache.key_of(h.tenant, "con_nobody"));
    EXPECT_FALSE(cache.key_of("ten_other", maria));
    seal_personal_values(tx, h.tenant, maria, "evt_cached", change, {"name"}, h.clock.now());
    EXPECT_EQ(opens(tx, maria, "evt_cached"), "Maria S.");
    destroy_subject_key(tx, h.tenant, maria);
    EXPECT_FALSE(cache.key_of(h.tenant, maria));
    seal_personal_values(tx, h.tenant, maria, "evt_after", change, {"name"}, h.clock.now());
    EXPECT_FALSE(key_of(tx, maria).empty());  // a new key, stored
    EXPECT_EQ(opens(tx, maria, "evt_after"), "Maria S.");
  });
  h.deps().database.read(h.tenant, [&](store::Transaction& tx) { EXPECT_EQ(SubjectKeyCache::of(tx), nullptr); });
}

TEST_P(SequencerTest, TheLogCannotBeUpdatedOrDeleted) {
  records.create(ctx, "account", {{"legal_name", "Fazenda Boa Vista"}});
  sequence_everything();
  auto attempt = [&](store::Database& db, const std::string& sql) {
    try {
      db.write(h.tenant, [&](store::Transaction& tx) { store::execute(tx.session(), sql, {}); });
      return false;
    } catch (const Error&) {
      return true;
    }
  };
  for (store::Database* db : {&h.deps().database, &h.deps().worker_database}) {
    EXPECT_TRUE(attempt(*db, "UPDATE audit_log SET action = 'account.archived'"));
    EXPECT_TRUE(attempt(*db, "DELETE FROM audit_log"));
    EXPECT_TRUE(attempt(*db, "UPDATE audit_tree_nodes SET hash = 'x'"));
    EXPECT_TRUE(attempt(*db, "DELETE FROM audit_tree_nodes"));
  }
  // Not even the schema owner: the triggers refuse it.
  soci::session owner;
  store::open_session(owner, h.db.owner());
  EXPECT_THROW(owner << "UPDATE audit_log SET action = 'x'", std::exception);
  EXPECT_THROW(owner << "DELETE FROM audit_tree_nodes", std::exception);
  if (GetParam() == store::Backend::postgresql) {
    EXPECT_THROW(owner << "TRUNCATE audit_log CASCADE", std::exception);
  }
  EXPECT_GT(h.count("SELECT count(*) FROM audit_log"), 0);
}

TEST_P(SequencerTest, TenantsHaveTheirOwnTreesAndSeqs) {
  std::string other = h.create_tenant("Outra");
  auto other_ctx = h.context(other);
  records.create(ctx, "account", {{"legal_name", "A"}});
  records.create(other_ctx, "account", {{"legal_name", "B"}});
  records.create(ctx, "account", {{"legal_name", "C"}});
  sequence_everything();
  for (const auto& tenant : {h.tenant, other}) {
    auto rows = log_of(tenant);
    ASSERT_FALSE(rows.empty());
    for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].seq, static_cast<std::int64_t>(i));
    for (const auto& r : rows) EXPECT_EQ(Json::parse(r.leaf)["tenant_id"], tenant);
  }
}

// Recording is the door: what the sequencer could not turn into a leaf never gets in
// (an ISO-8859-1 X-Reason once stopped every tenant's log on SQLite).
TEST_P(SequencerTest, RecordingRefusesWhatCannotBecomeALeaf) {
  int before = h.count("SELECT count(*) FROM audit_pending");
  auto attempt = [&](const std::string& reason, Json changes) {
    AuditEvent e;
    e.id = generate_id("aud", h.clock.now());
    e.tenant_id = h.tenant;
    e.recorded_at = h.clock.now();
    e.actor = {"key", "key_test", ""};
    e.action = "account.updated";
    e.entity_type = "account";
    e.entity_id = "acc_x";
    e.reason = reason;
    e.changes = std::move(changes);
    h.deps().database.write(h.tenant, [&](store::Transaction& tx) { record_audit_event(tx, e); });
  };
  for (const std::string& bad : {std::string("caf\xe9"), std::string("a\0b", 3)}) {
    try {
      attempt(bad, Json::object());
      ADD_FAILURE() << "recorded a reason that cannot be a leaf value";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation);
      ASSERT_EQ(e.fields().size(), 1u);
      EXPECT_EQ(e.fields()[0].field, "reason");
    }
  }
  EXPECT_THROW(attempt("ok", {{"legal_name", {{"from", nullptr}, {"to", "caf\xe9"}}}}), Error);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), before);
  attempt("café", Json::object());
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), before + 1);
}

// Defence in depth: should an event that cannot become a leaf be pending anyway (an
// older version recorded it), its tenant stalls — reported once — and every other
// tenant's log keeps growing.
TEST_P(SequencerTest, OneTenantsUnsequenceableEventHoldsUpNoOtherTenant) {
  std::string stuck = h.create_tenant("Travada");
  records.create(h.context(stuck), "account", {{"legal_name", "Antes"}});
  Json deep = "leaf";
  for (int i = 0; i < 70; ++i) deep = Json::array({deep});  // deeper than a leaf may nest
  h.deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO audit_pending (id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type,"
                   " entity_id, changes) VALUES (:p0, :p1, :p2, 'system', 'test', 'account.updated', 'account',"
                   " 'acc_x', :p3)",
                   {generate_id("aud", h.clock.now()), stuck, h.clock.now().micros,
                    Json{{"note", {{"from", nullptr}, {"to", deep}}}}.dump()});
  });
  for (int i = 0; i < 3; ++i) records.create(ctx, "account", {{"legal_name", "Segue " + std::to_string(i)}});
  int pending_here = h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant + "'");
  int pending_stuck = h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + stuck + "'");

  EXPECT_EQ(sequencer.run_once(500), static_cast<std::size_t>(pending_here));
  EXPECT_EQ(static_cast<int>(log_of(h.tenant).size()), pending_here);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + stuck + "'"), pending_stuck);
  auto notices = sequencer.take_notices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_TRUE(notices[0].stalled);
  EXPECT_NE(notices[0].text.find(stuck), std::string::npos) << notices[0].text;
  EXPECT_NE(notices[0].text.find("nested deeper"), std::string::npos) << notices[0].text;

  // Later writes of the other tenant still go through; the stall is not reported again.
  records.create(ctx, "account", {{"legal_name", "Depois"}});
  EXPECT_GT(sequencer.run_once(500), 0u);
  EXPECT_TRUE(sequencer.take_notices().empty());
  auto backlog = h.deps().worker_database.read("", [](store::Transaction& tx) { return pending_backlog(tx.session()); });
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog[0].tenant_id, stuck);
  EXPECT_EQ(backlog[0].events, static_cast<std::uint64_t>(pending_stuck));
}

// Issue #26: a pending row whose event the log already holds (audit_pending restored
// from a backup older than the log's, or a DELETE a transaction pooler replaced with
// another statement) once stalled its tenant forever on the log's unique id. It is
// removed without a second leaf, said in a notice, and the events behind it go on.
TEST_P(SequencerTest, APendingEventAlreadyInTheLogIsRemovedNotAppendedAgain) {
  for (int i = 0; i < 3; ++i) records.create(ctx, "account", {{"legal_name", "Fazenda " + std::to_string(i)}});
  sequence_everything();
  auto before = log_of(h.tenant);
  ASSERT_FALSE(before.empty());
  h.deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO audit_pending (id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type,"
                   " entity_id, changes) SELECT id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type,"
                   " entity_id, '{}' FROM audit_log WHERE tenant_id = :p0 AND seq = 0",
                   {h.tenant});
  });
  records.create(ctx, "account", {{"legal_name", "Fazenda depois"}});
  int behind = h.count("SELECT count(*) FROM audit_pending") - 1;
  sequencer.take_notices();
  sequence_everything();
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), 0);
  auto after = log_of(h.tenant);
  ASSERT_EQ(after.size(), before.size() + behind);
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].leaf_hash, before[i].leaf_hash);
  bool said = false;
  for (const auto& notice : sequencer.take_notices()) said = said || notice.text.find("already in the log") != std::string::npos;
  EXPECT_TRUE(said);
}

INSTANTIATE_TEST_SUITE_P(Backends, SequencerTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

// Writers and two sequencers at once on real PostgreSQL connections: every event lands
// once, seqs stay gapless, and the stored tree is the tree of the leaves.
TEST(SequencerConcurrency, WritersAndCompetingSequencersLeaveAGaplessLog) {
  test::ServiceHarness h(store::Backend::postgresql, 8);
  auto ctx = h.context(h.tenant);
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&, w] {
      auto records = h.records();
      for (int i = 0; i < 25; ++i) records.create(ctx, "account", {{"legal_name", "W" + std::to_string(w * 100 + i)}});
    });
  std::atomic<std::size_t> sequenced{0};
  std::vector<std::thread> sequencers;
  for (int s = 0; s < 2; ++s)
    sequencers.emplace_back([&] {
      Sequencer sequencer(h.deps().worker_database, h.clock);
      while (writing) sequenced += sequencer.run_once(10);
    });
  for (auto& t : threads) t.join();
  writing = false;
  for (auto& t : sequencers) t.join();
  Sequencer last(h.deps().worker_database, h.clock);
  while (std::size_t n = last.run_once(50)) sequenced += n;

  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending"), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + h.tenant + "'"),
            h.count("SELECT count(DISTINCT id) FROM audit_log WHERE tenant_id = '" + h.tenant + "'"));
  int n = h.count("SELECT count(*) FROM audit_log WHERE tenant_id = '" + h.tenant + "'");
  EXPECT_GE(n, 100);
  EXPECT_EQ(h.count("SELECT max(seq) + 1 FROM audit_log WHERE tenant_id = '" + h.tenant + "'"), n);
  h.deps().worker_database.read("", [&](store::Transaction& tx) {
    MerkleFrontier tree;
    store::query(tx.session(), "SELECT leaf FROM audit_log WHERE tenant_id = :p0 ORDER BY seq", {h.tenant},
                 [&](const store::Row& r) { tree.append(leaf_hash(store::required_text(r, 0))); });
    EXPECT_EQ(read_tree_head(tx, h.tenant).root, tree.root());
  });
}

}  // namespace
}  // namespace nucleo::audit
