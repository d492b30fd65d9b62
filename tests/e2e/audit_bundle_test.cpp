// nucleo audit export / verify end to end: a real log exported by the CLI verifies,
// and every kind of tampering — in the bundle or in the database — is caught and named.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernel/audit/audit_log.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class AuditBundle : public testing::TestWithParam<store::Backend> {
 protected:
  AuditBundle() : h(GetParam()), key(audit::SigningKey::generate()) {
    key.save(dir.path() + "/signing.pem");
    auto records = h.records();
    auto ctx = h.context(h.tenant);
    audit::Sequencer sequencer(h.deps().worker_database, h.clock);
    audit::CheckpointPolicy policy{"crm.test", std::chrono::seconds(3600), 10, ""};
    // Batches of ten, a checkpoint after each: checkpoints at 10, 20, 30 …
    for (int i = 0; i < 34; ++i) {
      if (i == 3) records.create(ctx, "contact", {{"name", "Ana Lima"}, {"email", "ana@coop.com.br"}});
      else records.create(ctx, "account", {{"legal_name", "Cooperativa " + std::to_string(i)}});
    }
    while (sequencer.run_once(10) > 0) audit::publish_checkpoints(h.deps().worker_database, key, policy, h.clock.now());
  }

  // Sequences and signs what was recorded since (as `serve` would).
  void sequence_and_sign() {
    audit::Sequencer sequencer(h.deps().worker_database, h.clock);
    audit::CheckpointPolicy policy{"crm.test", std::chrono::seconds(0), 1, ""};
    while (sequencer.run_once(10) > 0) audit::publish_checkpoints(h.deps().worker_database, key, policy, h.clock.now());
  }

  EnvironmentChanges env() const {
    return {{"NUCLEO_STORE_URL", h.db.app_url},          {"NUCLEO_STORE_WORKER_URL", h.db.worker_url},
            {"NUCLEO_STORE_OWNER_URL", h.db.owner_url},  {"NUCLEO_AUDIT_SIGNING_KEY_FILE", dir.path() + "/signing.pem"},
            {"NUCLEO_AUDIT_ORIGIN_HOST", "crm.test"},    {"NUCLEO_LOG_LEVEL", "warning"}};
  }
  ProcessResult nucleo(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{NUCLEO_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, env(), 120s, dir.path());
    EXPECT_FALSE(r.timed_out);
    return r;
  }
  fs::path exported(const std::string& name) {
    fs::path out = fs::path(dir.path()) / name;
    auto r = nucleo({"audit", "export", "--tenant", h.tenant, "--out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }
  fs::path copy_of(const fs::path& bundle, const std::string& name) {
    fs::path to = fs::path(dir.path()) / name;
    fs::copy(bundle, to, fs::copy_options::recursive);
    return to;
  }
  ProcessResult verify(const fs::path& bundle, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "verify", bundle.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return nucleo(args);
  }

  ServiceHarness h;
  TempDir dir;
  audit::SigningKey key;
};

TEST_P(AuditBundle, AnUntouchedExportPassesAndHoldsExactlyTheStoredLeaves) {
  fs::path bundle = exported("bundle");
  auto r = verify(bundle);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("PASS: ", 0), 0u) << r.out;
  EXPECT_EQ(verify(bundle, {"--jobs", "2"}).out, r.out);
  EXPECT_NE(r.out.find("3 checkpoints"), std::string::npos) << r.out;
  auto lines = lines_of(read_file(bundle / "events.jsonl"));
  EXPECT_GE(lines.size(), 34u);
  EXPECT_TRUE(fs::exists(bundle / "checkpoints" / "10.note"));
  EXPECT_EQ(read_file(bundle / "log.vkey"), audit::vkey("crm.test/nucleo/" + h.tenant, key.public_key()) + "\n");
  // Personal data is committed, not exported.
  EXPECT_EQ(read_file(bundle / "events.jsonl").find("ana@coop.com.br"), std::string::npos);
  // The export itself is an audit event (sequenced later).
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'audit.exported'"), 1);
}

TEST_P(AuditBundle, EditedDeletedSwappedTruncatedOrReformattedEventsFailNamingWhere) {
  fs::path bundle = exported("bundle");
  auto lines = lines_of(read_file(bundle / "events.jsonl"));

  auto edited = copy_of(bundle, "edited");
  auto e = lines;
  auto at = e[12].find("Cooperativa 1");
  ASSERT_NE(at, std::string::npos) << e[12];
  e[12].replace(at, 13, "Cooperativa 9");  // still canonical, different bytes
  write_file(edited / "events.jsonl", joined(e));
  auto r = verify(edited);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL seq 10–19"), std::string::npos) << r.out;
  auto on_three_threads = verify(edited, {"--jobs", "3"});  // the same verdict, word for word
  EXPECT_EQ(on_three_threads.exit_code, 1);
  EXPECT_EQ(on_three_threads.out, r.out);

  auto deleted = copy_of(bundle, "deleted");
  auto d = lines;
  d.erase(d.begin() + 5);
  write_file(deleted / "events.jsonl", joined(d));
  r = verify(deleted);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL seq 5: found seq 6"), std::string::npos) << r.out;

  auto swapped = copy_of(bundle, "swapped");
  auto s = lines;
  std::swap(s[7], s[8]);
  write_file(swapped / "events.jsonl", joined(s));
  r = verify(swapped);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL seq 7"), std::string::npos) << r.out;

  auto truncated = copy_of(bundle, "truncated");
  auto t = lines;
  t.resize(25);
  write_file(truncated / "events.jsonl", joined(t));
  r = verify(truncated);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;

  auto reformatted = copy_of(bundle, "reformatted");
  auto f = lines;
  f[3].insert(1, " ");
  write_file(reformatted / "events.jsonl", joined(f));
  r = verify(reformatted);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL seq 3: not canonical"), std::string::npos) << r.out;

  auto no_newline = copy_of(bundle, "no_newline");
  std::string text = read_file(bundle / "events.jsonl");
  write_file(no_newline / "events.jsonl", text.substr(0, text.size() - 1));
  EXPECT_EQ(verify(no_newline).exit_code, 1);
}

TEST_P(AuditBundle, ResigningWithAnotherKeyIsCaughtByTheKeyOrByAKeptCheckpoint) {
  fs::path bundle = exported("bundle");
  std::string kept = (fs::path(dir.path()) / "kept-20.note").string();
  fs::copy_file(bundle / "checkpoints" / "20.note", kept);
  auto r = verify(bundle, {"--trusted-checkpoint", kept});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("consistent with the trusted checkpoint at 20"), std::string::npos) << r.out;

  // An attacker rewrites an event and re-signs every checkpoint with their own key …
  auto forged = copy_of(bundle, "forged");
  auto lines = lines_of(read_file(bundle / "events.jsonl"));
  auto target = std::find_if(lines.begin(), lines.end(),
                             [](const std::string& l) { return l.find("Cooperativa 2\"") != std::string::npos; });
  ASSERT_NE(target, lines.end());
  target->replace(target->find("Cooperativa 2"), 13, "Cooperativa X");
  write_file(forged / "events.jsonl", joined(lines));
  auto other = audit::SigningKey::generate();
  std::string origin = "crm.test/nucleo/" + h.tenant;
  audit::MerkleFrontier tree;
  for (const auto& l : lines) {
    tree.append(audit::leaf_hash(l));
    if (tree.size() % 10 == 0)
      write_file(forged / "checkpoints" / (std::to_string(tree.size()) + ".note"),
                 audit::sign_checkpoint({origin, tree.size(), tree.root()}, other));
  }
  // … keeping the real log.vkey: the signatures fail.
  r = verify(forged);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no signature by"), std::string::npos) << r.out;
  // … replacing log.vkey too: only the checkpoint the auditor kept exposes it.
  write_file(forged / "log.vkey", audit::vkey(origin, other.public_key()) + "\n");
  EXPECT_EQ(verify(forged).exit_code, 0);
  r = verify(forged, {"--trusted-checkpoint", kept});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL trusted checkpoint"), std::string::npos) << r.out;
}

TEST_P(AuditBundle, UnusableInputExitsTwo) {
  fs::path bundle = exported("bundle");
  auto no_manifest = copy_of(bundle, "no_manifest");
  fs::remove(no_manifest / "manifest.json");
  auto r = verify(no_manifest);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("manifest.json"), std::string::npos);
  auto bad_vkey = copy_of(bundle, "bad_vkey");
  write_file(bad_vkey / "log.vkey", "nonsense\n");
  EXPECT_EQ(verify(bad_vkey).exit_code, 2);
  EXPECT_EQ(verify(fs::path(dir.path()) / "nowhere").exit_code, 2);
  for (std::string jobs : {"0", "x", "257"}) {
    auto refused = verify(bundle, {"--jobs", jobs});
    EXPECT_EQ(refused.exit_code, 2) << jobs;
    EXPECT_NE(refused.err.find("--jobs must be a whole number from 1 to 256"), std::string::npos) << refused.err;
  }
  EXPECT_EQ(nucleo({"audit", "export", "--tenant", h.tenant, "--out", bundle.string()}).exit_code, 2);  // not empty
  EXPECT_EQ(nucleo({"audit", "export", "--tenant", "ten_01kwdfkd00e8xs7761qv3w9a4e", "--out", "x"}).exit_code, 1);
}

TEST_P(AuditBundle, AnExportFromALaterSeqStillVerifiesAgainstTheCheckpoints) {
  fs::path out = fs::path(dir.path()) / "tail";
  auto r = nucleo({"audit", "export", "--tenant", h.tenant, "--out", out.string(), "--from-seq", "15"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = verify(out);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(seq 15–"), std::string::npos) << r.out;
}

// Someone with write access to the database rewrites a stored leaf behind the
// triggers' back: the next export no longer matches the signed checkpoints.
TEST_P(AuditBundle, ADatabaseRewriteBehindTheTriggersIsCaughtByTheCheckpoints) {
  std::string leaf;
  std::int64_t seq = -1;
  h.deps().worker_database.read("", [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT leaf, seq FROM audit_log WHERE tenant_id = :p0 AND leaf LIKE :p1", {h.tenant, "%Cooperativa 4\"%"},
                 [&](const store::Row& row) {
                   leaf = store::required_text(row, 0);
                   seq = store::required_integer(row, 1);
                 });
  });
  ASSERT_GE(seq, 0);
  std::string forged = leaf;
  forged.replace(forged.find("Cooperativa 4"), 13, "Cooperativa Z");
  std::string update = "UPDATE audit_log SET leaf = '" + forged + "' WHERE tenant_id = '" + h.tenant +
                       "' AND seq = " + std::to_string(seq);
  if (GetParam() == store::Backend::sqlite) {
    soci::session owner;
    store::open_session(owner, h.db.owner());
    owner << "DROP TRIGGER audit_log_no_update";
    owner << update;
  } else {
    soci::session superuser;
    store::open_session(superuser, store::parse_database_url(h.db.superuser_url));
    superuser << "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only";
    superuser << update;
    superuser << "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only";
  }
  auto r = verify(exported("after_rewrite"));
  EXPECT_EQ(r.exit_code, 1);
  std::int64_t from = seq / 10 * 10;  // checkpoints every 10 events
  EXPECT_NE(r.out.find("FAIL seq " + std::to_string(from) + "–" + std::to_string(from + 9)), std::string::npos)
      << r.out;
}

// Issue #7: erasure from the command line, held first; afterwards a fresh export still
// verifies, and neither the bundle nor any table holds her name or e-mail.
TEST_P(AuditBundle, AfterErasureAFreshExportPassesAndHoldsNoneOfHerData) {
  std::string ana;
  for (const auto& c : h.records().list(h.context(h.tenant), "contact", {{}, "", 50, false})) ana = c["id"];
  ASSERT_FALSE(ana.empty());
  auto held = nucleo({"privacy", "hold", "--tenant", h.tenant, "--contact", ana, "--reason", "Tax audit 2026"});
  ASSERT_EQ(held.exit_code, 0) << held.err;
  std::string hold = held.out.substr(3, held.out.find('\n') - 3);  // "id=hold_…"
  ASSERT_EQ(hold.rfind("hold_", 0), 0u) << held.out;

  auto refused = nucleo({"privacy", "erase", "--tenant", h.tenant, "--contact", ana, "--reason", "titular request"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("legal hold " + hold), std::string::npos) << refused.err;
  auto lifted = nucleo({"privacy", "lift", "--tenant", h.tenant, hold, "--reason", "audit closed"});
  EXPECT_EQ(lifted.exit_code, 0) << lifted.err;
  auto erased = nucleo({"privacy", "erase", "--tenant", h.tenant, "--contact", ana, "--reason", "titular request"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  EXPECT_NE(erased.out.find("contact_id=" + ana), std::string::npos) << erased.out;
  // name and e-mail when created, and again as the erasure's "from" values
  EXPECT_NE(erased.out.find("sealed_values_destroyed=4"), std::string::npos) << erased.out;
  sequence_and_sign();

  fs::path bundle = exported("after-erasure");
  auto r = verify(bundle);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("PASS: ", 0), 0u) << r.out;
  std::string events = read_file(bundle / "events.jsonl");
  EXPECT_NE(events.find("\"action\":\"contact.erased\""), std::string::npos);
  EXPECT_NE(events.find("\"action\":\"privacy.hold_lifted\""), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(bundle)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = read_file(entry.path());
    EXPECT_EQ(bytes.find("ana@coop.com.br"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("Ana Lima"), std::string::npos) << entry.path();
  }
  h.vacuum();  // PostgreSQL: the runbook step of docs/compliance.md (VACUUM FULL)
  for (const std::string value : {"ana@coop.com.br", "Ana Lima"})
    EXPECT_EQ(h.places_holding(value), std::vector<std::string>{}) << value;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditBundle, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::test
