// Inclusion-proof latency in a large log (issue 6 goal: at 10M events, p99 within 3× of
// a single indexed PostgreSQL lookup measured in the same run).
//
//   audit_proof_latency seed OWNER_URL TENANT EVENTS
//     Gives TENANT's empty audit log EVENTS synthetic events, as the sequencer would have
//     written them: canonical leaves, every complete Merkle node and the tree head,
//     loaded with COPY (two connections at once: leaves and nodes).
//   audit_proof_latency measure APP_URL TENANT [SAMPLES]
//     As nucleo_app, alternates an inclusion proof for a random seq in the whole tree
//     (audit::prove_inclusion, one read transaction, as GET /v1/audit/proof/inclusion
//     runs it) with a single indexed lookup of one event's leaf hash (one read
//     transaction, same pooled connection), and prints p50/p99 of both. Every proof is
//     verified against the head's root, outside the timing.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/canonical_json.hpp"
#include "kernel/audit/merkle.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/sql.hpp"

using namespace nucleo;
using Steady = std::chrono::steady_clock;

namespace {

// One COPY … FROM STDIN in progress, fed in 1 MB chunks.
class CopyStream {
 public:
  CopyStream(const std::string& url, const std::string& tenant, const std::string& copy_sql)
      : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
    command("SELECT set_config('nucleo.tenant_id', '" + tenant + "', false)", PGRES_TUPLES_OK);
    command(copy_sql, PGRES_COPY_IN);
  }
  ~CopyStream() { PQfinish(conn_); }
  CopyStream(const CopyStream&) = delete;
  CopyStream& operator=(const CopyStream&) = delete;

  void row(const std::string& tab_separated) {
    buffer_ += tab_separated;
    buffer_ += '\n';
    if (buffer_.size() >= (1 << 20)) flush();
  }
  void finish() {
    flush();
    if (PQputCopyEnd(conn_, nullptr) != 1) throw std::runtime_error(PQerrorMessage(conn_));
    PGresult* r = PQgetResult(conn_);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) throw std::runtime_error(std::string("COPY failed: ") + PQerrorMessage(conn_));
  }
  void command(const std::string& sql, ExecStatusType expected) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == expected;
    PQclear(r);
    if (!ok) throw std::runtime_error(sql.substr(0, 60) + ": " + PQerrorMessage(conn_));
  }

 private:
  void flush() {
    if (!buffer_.empty() && PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1)
      throw std::runtime_error(PQerrorMessage(conn_));
    buffer_.clear();
  }
  PGconn* conn_;
  std::string buffer_;
};

// A small interaction event; its text needs no COPY escaping.
std::string synthetic_leaf(const std::string& tenant, std::uint64_t seq, Timestamp at) {
  Json leaf = {{"v", 1},
               {"tenant_id", tenant},
               {"seq", seq},
               {"id", "aud_seed" + std::to_string(seq)},
               {"recorded_at", format_rfc3339(at)},
               {"actor", {{"type", "key"}, {"id", "key_seed"}, {"on_behalf_of", nullptr}}},
               {"action", "interaction.created"},
               {"entity", {{"type", "interaction"}, {"id", "int_seed" + std::to_string(seq)}}},
               {"request_id", nullptr},
               {"source_ip", nullptr},
               {"reason", nullptr},
               {"changes", {{"type", {{"from", nullptr}, {"to", "call"}}}}}};
  return audit::canonical_json(leaf);
}

int seed(const std::string& url, const std::string& tenant, std::uint64_t events) {
  CopyStream leaves(url, tenant,
                    "COPY audit_log (tenant_id, seq, id, recorded_at, actor_type, actor_id, action, entity_type,"
                    " entity_id, leaf, leaf_hash, sequenced_at) FROM STDIN");
  CopyStream nodes(url, tenant, "COPY audit_tree_nodes (tenant_id, level, idx, hash) FROM STDIN");
  audit::MerkleFrontier tree;
  Timestamp start{SystemClock().now().micros - 365LL * 24 * 3600 * 1000000};
  auto began = Steady::now();
  for (std::uint64_t seq = 0; seq < events; ++seq) {
    Timestamp at{start.micros + static_cast<std::int64_t>(seq) * 1000};
    std::string leaf = synthetic_leaf(tenant, seq, at);
    audit::Hash h = audit::leaf_hash(leaf);
    std::string at_text = std::to_string(at.micros);
    leaves.row(tenant + '\t' + std::to_string(seq) + "\taud_seed" + std::to_string(seq) + '\t' + at_text +
               "\tkey\tkey_seed\tinteraction.created\tinteraction\tint_seed" + std::to_string(seq) + '\t' + leaf +
               '\t' + audit::to_hex(h) + '\t' + at_text);
    for (const auto& node : tree.append(h))
      nodes.row(tenant + '\t' + std::to_string(node.id.level) + '\t' + std::to_string(node.id.index) + '\t' +
                audit::to_hex(node.hash));
    if ((seq + 1) % 1'000'000 == 0)
      std::fprintf(stderr, "   %llu events seeded (%.0f s)\n", static_cast<unsigned long long>(seq + 1),
                   std::chrono::duration<double>(Steady::now() - began).count());
  }
  leaves.finish();
  nodes.finish();
  leaves.command("INSERT INTO audit_tree_heads (tenant_id, size, root, updated_at) VALUES ('" + tenant + "', " +
                     std::to_string(events) + ", '" + audit::to_hex(tree.root()) + "', " +
                     std::to_string(SystemClock().now().micros) + ")",
                 PGRES_COMMAND_OK);
  // Vacuumed now, as a long-lived table would be, so autovacuum does not run during the measurement.
  leaves.command("VACUUM ANALYZE audit_log", PGRES_COMMAND_OK);
  nodes.command("VACUUM ANALYZE audit_tree_nodes", PGRES_COMMAND_OK);
  std::fprintf(stderr, "   seeded %llu events in %.0f s, root %s\n", static_cast<unsigned long long>(events),
               std::chrono::duration<double>(Steady::now() - began).count(), audit::to_base64(tree.root()).c_str());
  return 0;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

int measure(const std::string& url, const std::string& tenant, std::size_t samples) {
  store::Database db(store::parse_database_url(url), 1, std::chrono::seconds(5));
  auto head = db.read(tenant, [&](store::Transaction& tx) { return audit::read_tree_head(tx, tenant); });
  if (head.size == 0) throw std::runtime_error("the tenant's audit log is empty: seed it first");
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::uint64_t> any_seq(0, head.size - 1);
  std::vector<double> proof_ms, lookup_ms;
  std::size_t proof_hashes = 0, invalid = 0;
  const std::size_t warm_up = samples / 10;
  for (std::size_t i = 0; i < warm_up + samples; ++i) {
    std::uint64_t seq = any_seq(random);
    auto t0 = Steady::now();
    auto proof = db.read(tenant, [&](store::Transaction& tx) { return audit::prove_inclusion(tx, tenant, seq, head.size); });
    auto t1 = Steady::now();
    std::uint64_t other = any_seq(random);
    db.read(tenant, [&](store::Transaction& tx) {
      store::query(tx.session(), "SELECT leaf_hash FROM audit_log WHERE tenant_id = :p0 AND seq = :p1",
                   {tenant, static_cast<std::int64_t>(other)}, [](const store::Row&) {});
    });
    auto t2 = Steady::now();
    if (proof.root != head.root || !audit::verify_inclusion(seq, head.size, proof.leaf_hash, proof.proof, head.root))
      ++invalid;
    if (i < warm_up) continue;
    proof_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    lookup_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    proof_hashes += proof.proof.size();
  }
  double p50 = percentile(proof_ms, 0.5), p99 = percentile(proof_ms, 0.99);
  double l50 = percentile(lookup_ms, 0.5), l99 = percentile(lookup_ms, 0.99);
  std::printf("tree of %llu events; %zu samples each, interleaved, after %zu to warm up; one client\n",
              static_cast<unsigned long long>(head.size), samples, warm_up);
  std::printf("lookup    one indexed row (audit_log by tenant, seq):  p50 %.3f ms, p99 %.3f ms\n", l50, l99);
  std::printf("proof     inclusion proof, %.1f hashes on average:      p50 %.3f ms, p99 %.3f ms (p99 %.2f× the lookup's)\n",
              static_cast<double>(proof_hashes) / static_cast<double>(samples), p50, p99, p99 / l99);
  if (invalid > 0) std::printf("INVALID   %zu proofs did not verify\n", invalid);
  return invalid == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "seed" && argc == 5) return seed(argv[2], argv[3], std::stoull(argv[4]));
    if (mode == "measure" && (argc == 4 || argc == 5))
      return measure(argv[2], argv[3], argc == 5 ? std::stoull(argv[4]) : 20000);
    std::fprintf(stderr,
                 "usage: audit_proof_latency seed OWNER_URL TENANT EVENTS\n"
                 "       audit_proof_latency measure APP_URL TENANT [SAMPLES]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit_proof_latency: %s\n", e.what());
    return 1;
  }
}
