#include "kernel/audit/audit_log.hpp"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "kernel/audit/canonical_json.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::audit {
namespace {

// Any class will do as long as every sequencer uses the same one ("nuAU"); the
// tenant's hash is the lock's second half.
constexpr std::int32_t sequencer_lock_class = 0x6e754155;
// How long a stalled tenant waits before its events are tried again.
constexpr std::chrono::seconds stall_retry{10};

Hash stored_hash(const std::string& hex) {
  auto h = hash_from_hex(hex);
  if (!h) throw Error(ErrorCode::internal, "a stored audit hash is not 64 hex digits");
  return *h;
}

Error bad_proof_request(const std::string& why) {
  return Error(ErrorCode::validation, why);
}

struct PendingEvent {
  std::int64_t pending_seq;
  std::string id, tenant_id;
  std::int64_t recorded_at;
  std::string actor_type, actor_id;
  std::optional<std::string> on_behalf_of;
  std::string action, entity_type, entity_id;
  std::optional<std::string> request_id, source_ip, reason;
  Json changes;  // personal values already committed
};

std::vector<PendingEvent> read_pending(store::Transaction& tx, const std::string& tenant_id, std::size_t batch) {
  std::vector<PendingEvent> events;
  store::query(tx.session(),
               "SELECT seq, id, tenant_id, recorded_at, actor_type, actor_id, on_behalf_of, action, entity_type,"
               " entity_id, request_id, source_ip, reason, changes FROM audit_pending WHERE tenant_id = :p0"
               " ORDER BY seq LIMIT :p1",
               {tenant_id, static_cast<std::int64_t>(batch)}, [&](const store::Row& r) {
                 using store::integer_at;
                 using store::text_at;
                 PendingEvent e{store::required_integer(r, 0), store::required_text(r, 1), store::required_text(r, 2), store::required_integer(r, 3),
                                store::required_text(r, 4), store::required_text(r, 5), text_at(r, 6), store::required_text(r, 7), store::required_text(r, 8),
                                store::required_text(r, 9), text_at(r, 10), text_at(r, 11), text_at(r, 12),
                                Json::parse(text_at(r, 13).value_or("{}"))};
                 events.push_back(std::move(e));
               });
  return events;
}

Json nullable(const std::optional<std::string>& s) {
  return s && !s->empty() ? Json(*s) : Json();
}

// The leaf, format v1 (docs/architecture.md §5).
// Personal values arrive already committed (record_audit_event sealed them).
std::string leaf_bytes(const PendingEvent& e, std::uint64_t seq) {
  Json leaf = Json::object();
  leaf["v"] = 1;
  leaf["tenant_id"] = e.tenant_id;
  leaf["seq"] = seq;
  leaf["id"] = e.id;
  leaf["recorded_at"] = format_rfc3339(Timestamp{e.recorded_at});
  leaf["actor"] = Json{{"type", e.actor_type}, {"id", e.actor_id}, {"on_behalf_of", nullable(e.on_behalf_of)}};
  leaf["action"] = e.action;
  leaf["entity"] = Json{{"type", e.entity_type}, {"id", e.entity_id}};
  leaf["request_id"] = nullable(e.request_id);
  leaf["source_ip"] = nullable(e.source_ip);
  leaf["reason"] = nullable(e.reason);
  leaf["changes"] = to_leaf_value_space(e.changes);
  return canonical_json(leaf);
}

// The stored hashes of range_nodes({0, size}): the right edge of the first `size`
// leaves, from which both the root and the sequencer's frontier follow. nullopt when
// the tree has fewer leaves (a node is missing).
std::optional<std::vector<Hash>> stored_edge(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size) {
  auto ids = range_nodes({0, size});
  auto found = read_nodes(tx, tenant_id, ids);
  std::vector<Hash> edge;
  for (const auto& id : ids) {
    auto it = found.find(id);
    if (it == found.end()) return std::nullopt;
    edge.push_back(it->second);
  }
  return edge;
}

MerkleFrontier load_frontier(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size) {
  auto edge = stored_edge(tx, tenant_id, size);
  if (!edge) throw Error(ErrorCode::internal, "the audit tree of " + tenant_id + " is missing a node");
  return MerkleFrontier(size, *edge);
}

// Statement shapes: a prepared statement is kept per SQL text (ADR 0009), and a
// multi-row INSERT of n rows is its own text. Writing n rows as chunks of powers of two
// (256, 128, …, 1) keeps nine shapes per table, all prepared after warm-up, instead of
// one per batch size: most batches prepared new statements of up to 3,000 parameters,
// and a long run would fill the session's 512-statement cache.
std::vector<std::size_t> chunk_sizes(std::size_t rows) {
  constexpr std::size_t largest = 256;
  std::vector<std::size_t> sizes;
  while (rows > 0) {
    sizes.push_back(std::bit_floor(std::min(rows, largest)));
    rows -= sizes.back();
  }
  return sizes;
}

// Rows for one table, written with as few statements as the parameter limits and the
// shapes above allow: the sequencer has to keep pace with every writer of the
// deployment. Call flush() at the end (no flush in a destructor: it could throw while
// unwinding).
class RowWriter {
 public:
  RowWriter(store::Transaction& tx, std::string insert_prefix, std::size_t columns)
      : tx_(tx), prefix_(std::move(insert_prefix)), columns_(columns) {}
  void add(std::vector<store::SqlValue> row) {
    for (auto& v : row) values_.push_back(std::move(v));
    if (values_.size() >= columns_ * 256) flush();
  }

  void flush() {
    std::size_t first = 0;
    for (std::size_t rows : chunk_sizes(values_.size() / columns_)) {
      std::string sql = prefix_ + " VALUES ";
      std::vector<store::SqlValue> chunk;
      for (std::size_t r = 0; r < rows; ++r) {
        sql += r == 0 ? "(" : ", (";
        for (std::size_t c = 0; c < columns_; ++c) {
          sql += (c ? ", " : "") + store::placeholder(chunk.size());
          chunk.push_back(std::move(values_[(first + r) * columns_ + c]));
        }
        sql += ")";
      }
      store::execute(tx_.session(), sql, chunk);
      first += rows;
    }
    values_.clear();
  }

 private:
  store::Transaction& tx_;
  std::string prefix_;
  std::size_t columns_;
  std::vector<store::SqlValue> values_;
};

void append_events(store::Transaction& tx, const std::string& tenant_id, const std::vector<const PendingEvent*>& events,
                   Timestamp now) {
  TreeHead head = read_tree_head(tx, tenant_id);
  MerkleFrontier tree = load_frontier(tx, tenant_id, head.size);
  RowWriter leaves(tx,
                   "INSERT INTO audit_log (tenant_id, seq, id, recorded_at, actor_type, actor_id, action, entity_type,"
                   " entity_id, leaf, leaf_hash, sequenced_at)",
                   12);
  RowWriter nodes(tx, "INSERT INTO audit_tree_nodes (tenant_id, level, idx, hash)", 4);
  for (const PendingEvent* e : events) {
    std::uint64_t seq = tree.size();
    std::string leaf = leaf_bytes(*e, seq);
    Hash h = leaf_hash(leaf);
    leaves.add({tenant_id, static_cast<std::int64_t>(seq), e->id, e->recorded_at, e->actor_type, e->actor_id, e->action,
                e->entity_type, e->entity_id, leaf, to_hex(h), now.micros});
    for (const auto& c : tree.append(h))
      nodes.add({tenant_id, std::int64_t{c.id.level}, static_cast<std::int64_t>(c.id.index), to_hex(c.hash)});
  }
  leaves.flush();
  nodes.flush();
  std::string root = to_hex(tree.root());
  auto size = static_cast<std::int64_t>(tree.size());
  store::execute(tx.session(),
                 "INSERT INTO audit_tree_heads (tenant_id, size, root, updated_at) VALUES (:p0, :p1, :p2, :p3)"
                 " ON CONFLICT (tenant_id) DO UPDATE SET size = excluded.size, root = excluded.root,"
                 " updated_at = excluded.updated_at",
                 {tenant_id, size, root, now.micros});
}

}  // namespace

TreeHead read_tree_head(store::Transaction& tx, const std::string& tenant_id) {
  TreeHead head;
  store::query(tx.session(), "SELECT size, root FROM audit_tree_heads WHERE tenant_id = :p0", {tenant_id},
               [&](const store::Row& r) {
                 head.size = static_cast<std::uint64_t>(store::required_integer(r, 0));
                 head.root = stored_hash(store::required_text(r, 1));
               });
  return head;
}

std::map<NodeId, Hash> read_nodes(store::Transaction& tx, const std::string& tenant_id,
                                  const std::vector<NodeId>& ids) {
  std::map<NodeId, Hash> found;
  std::set<NodeId> unique(ids.begin(), ids.end());
  if (unique.empty()) return found;
  auto add = [&](const store::Row& r) {
    NodeId id{static_cast<int>(store::required_integer(r, 0)), static_cast<std::uint64_t>(store::required_integer(r, 1))};
    found[id] = stored_hash(store::required_text(r, 2));
  };
  if (tx.backend() == store::Backend::postgresql) {
    // One statement text for every proof (prepared once per session), one primary-key
    // probe per wanted node: an OR of 40 pairs planned as a bitmap scan took about twice
    // as long at 10M events. The LATERAL subquery with its LIMIT cannot be flattened into
    // a join: a join's plan, cached by the sequencer's session while a new deployment's
    // tree was small, was a hash join over all the tenant's nodes, kept as the tree grew
    // (a 10,000-message e-mail sync: 3.2 ms a call at the end, 0.08 ms this way). Stats
    // from an ANALYZE of a tiny tree mislead both shapes until autovacuum analyses again.
    std::string levels, indexes;
    for (const auto& id : unique) {
      levels += (levels.empty() ? "{" : ",") + std::to_string(id.level);
      indexes += (indexes.empty() ? "{" : ",") + std::to_string(id.index);
    }
    store::query(tx.session(),
                 "SELECT w.level, w.idx, n.hash FROM unnest(CAST(:p0 AS integer[]), CAST(:p1 AS bigint[])) AS w(level, idx)"
                 " CROSS JOIN LATERAL (SELECT hash FROM audit_tree_nodes WHERE tenant_id = :p2 AND level = w.level"
                 " AND idx = w.idx LIMIT 1) AS n",
                 {levels + "}", indexes + "}", tenant_id}, add);
    return found;
  }
  std::string sql = "SELECT level, idx, hash FROM audit_tree_nodes WHERE tenant_id = :p0 AND (";
  std::vector<store::SqlValue> values{tenant_id};
  for (const auto& id : unique) {
    sql += values.size() > 1 ? " OR " : "";
    sql += "(level = " + store::placeholder(values.size()) + " AND idx = " + store::placeholder(values.size() + 1) + ")";
    values.push_back(std::int64_t{id.level});
    values.push_back(static_cast<std::int64_t>(id.index));
  }
  store::query(tx.session(), sql + ")", values, add);
  return found;
}

Hash root_at(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size) {
  auto edge = stored_edge(tx, tenant_id, size);
  if (!edge) throw bad_proof_request("the log has fewer than " + std::to_string(size) + " events");
  return range_root(*edge);
}

namespace {

// The nodes a proof needs, read with one query. A missing node of the edge of `size`
// means the log has fewer leaves: the head is read only then, to say how many it has.
std::map<NodeId, Hash> read_proof_nodes(store::Transaction& tx, const std::string& tenant_id,
                                        const std::vector<NodeId>& ids, std::uint64_t size) {
  auto found = read_nodes(tx, tenant_id, ids);
  for (const auto& id : range_nodes({0, size}))
    if (!found.count(id))
      throw bad_proof_request("the log has " + std::to_string(read_tree_head(tx, tenant_id).size) + " events, fewer than " +
                              std::to_string(size));
  return found;
}

Hash root_from(const std::map<NodeId, Hash>& found, std::uint64_t size) {
  std::vector<Hash> edge;
  for (const auto& id : range_nodes({0, size})) edge.push_back(found.at(id));
  return range_root(edge);
}

void append(std::vector<NodeId>& to, const std::vector<NodeId>& ids) {
  to.insert(to.end(), ids.begin(), ids.end());
}

}  // namespace

// One query each: the edge nodes give the root, the proof ranges' nodes the proof.
InclusionProof prove_inclusion(store::Transaction& tx, const std::string& tenant_id, std::uint64_t seq,
                               std::uint64_t tree_size) {
  if (tree_size == 0) throw bad_proof_request("tree_size must be at least 1");
  if (seq >= tree_size) throw bad_proof_request("seq must be below tree_size");
  auto ranges = inclusion_ranges(seq, tree_size);
  std::vector<NodeId> wanted{{0, seq}};
  append(wanted, range_nodes({0, tree_size}));
  for (const auto& r : ranges) append(wanted, range_nodes(r));
  auto found = read_proof_nodes(tx, tenant_id, wanted, tree_size);
  auto from_found = [&](const std::vector<NodeId>&) { return found; };
  return {seq, tree_size, found.at({0, seq}), root_from(found, tree_size), proof_hashes(ranges, from_found)};
}

std::vector<std::vector<Hash>> prove_inclusions(store::Transaction& tx, const std::string& tenant_id,
                                                const std::vector<std::uint64_t>& seqs, std::uint64_t tree_size) {
  constexpr std::size_t leaves_per_read = 32;  // ~15 nodes each, shared near the root
  std::vector<std::vector<Hash>> proofs;
  proofs.reserve(seqs.size());
  for (std::size_t first = 0; first < seqs.size(); first += leaves_per_read) {
    std::vector<std::vector<LeafRange>> ranges;
    std::vector<NodeId> wanted;
    for (std::size_t i = first; i < std::min(seqs.size(), first + leaves_per_read); ++i) {
      if (seqs[i] >= tree_size) throw bad_proof_request("seq must be below tree_size");
      ranges.push_back(inclusion_ranges(seqs[i], tree_size));
      for (const auto& r : ranges.back()) append(wanted, range_nodes(r));
    }
    const auto found = read_nodes(tx, tenant_id, wanted);
    auto some_of_found = [&](const std::vector<NodeId>& ids) {
      std::map<NodeId, Hash> some;
      for (const auto& id : ids)
        if (auto it = found.find(id); it != found.end()) some.insert(*it);
      return some;
    };
    for (const auto& r : ranges) proofs.push_back(proof_hashes(r, some_of_found));
  }
  return proofs;
}

ConsistencyProof prove_consistency(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size1,
                                   std::uint64_t size2) {
  if (size1 == 0) throw bad_proof_request("first must be at least 1");
  if (size1 > size2) throw bad_proof_request("first must not exceed second");
  auto ranges = consistency_ranges(size1, size2);
  std::vector<NodeId> wanted = range_nodes({0, size1});
  append(wanted, range_nodes({0, size2}));
  for (const auto& r : ranges) append(wanted, range_nodes(r));
  auto found = read_proof_nodes(tx, tenant_id, wanted, size2);
  auto from_found = [&](const std::vector<NodeId>&) { return found; };
  return {size1, size2, root_from(found, size1), root_from(found, size2), proof_hashes(ranges, from_found)};
}

std::string origin_of(const std::string& host, const std::string& tenant_id) {
  return host + "/nucleo/" + tenant_id;
}

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error(ErrorCode::unavailable, "cannot write " + partial.string());
  }
  std::filesystem::rename(partial, path);  // readers never see half a note
}

}  // namespace

std::vector<SignedCheckpoint> publish_checkpoints(store::Database& worker, const SigningKey& key,
                                                 const CheckpointPolicy& policy, Timestamp now) {
  struct Due {
    std::string tenant_id;
    std::uint64_t size;
    Hash root;
  };
  std::vector<Due> due = worker.read("", [&](store::Transaction& tx) {
    std::vector<Due> out;
    store::query(tx.session(),
                 "SELECT h.tenant_id, h.size, h.root, c.size, c.created_at FROM audit_tree_heads h"
                 " LEFT JOIN (SELECT tenant_id, max(size) AS size, max(created_at) AS created_at"
                 " FROM audit_checkpoints GROUP BY tenant_id) c ON c.tenant_id = h.tenant_id"
                 " WHERE h.size > 0 AND (c.size IS NULL OR h.size > c.size)",
                 {}, [&](const store::Row& r) {
                   auto size = static_cast<std::uint64_t>(store::required_integer(r, 1));
                   auto last_size = store::integer_at(r, 3);
                   auto last_at = store::integer_at(r, 4);
                   bool is_due = !last_size || size - static_cast<std::uint64_t>(*last_size) >= policy.every_events ||
                                 now.micros - *last_at >= policy.interval.count() * 1'000'000;
                   if (is_due) out.push_back({store::required_text(r, 0), size, stored_hash(store::required_text(r, 2))});
                 });
    return out;
  });
  std::vector<SignedCheckpoint> signed_notes;
  for (const auto& d : due) {
    std::string origin = origin_of(policy.origin_host, d.tenant_id);
    std::string note = sign_checkpoint({origin, d.size, d.root}, key);
    signed_notes.push_back({d.tenant_id, d.size, note});
    worker.write("", [&](store::Transaction& tx) {
      store::execute(tx.session(),
                     "INSERT INTO audit_checkpoints (tenant_id, size, root, note, created_at)"
                     " VALUES (:p0, :p1, :p2, :p3, :p4) ON CONFLICT DO NOTHING",
                     {d.tenant_id, static_cast<std::int64_t>(d.size), to_hex(d.root), note, now.micros});
    });
    if (!policy.publish_dir.empty()) {
      std::filesystem::path dir = std::filesystem::path(policy.publish_dir) / d.tenant_id;
      write_file(dir / "checkpoints" / (std::to_string(d.size) + ".note"), note);
      write_file(dir / "log.vkey", vkey(origin, key.public_key()) + "\n");
    }
  }
  return signed_notes;
}

std::optional<std::string> latest_checkpoint_note(store::Transaction& tx, const std::string& tenant_id) {
  std::optional<std::string> note;
  store::query(tx.session(),
               "SELECT note FROM audit_checkpoints WHERE tenant_id = :p0 ORDER BY size DESC LIMIT 1", {tenant_id},
               [&](const store::Row& r) { note = store::text_at(r, 0); });
  return note;
}

std::vector<PendingBacklog> pending_backlog(soci::session& session) {
  std::vector<PendingBacklog> backlog;
  store::query(session,
               "SELECT tenant_id, COUNT(*), MIN(recorded_at), MIN(seq) FROM audit_pending GROUP BY tenant_id"
               " ORDER BY MIN(seq)",
               {}, [&](const store::Row& r) {
                 backlog.push_back({store::required_text(r, 0), static_cast<std::uint64_t>(store::required_integer(r, 1)),
                                    Timestamp{store::required_integer(r, 2)}});
               });
  return backlog;
}

std::size_t Sequencer::run_once(std::size_t batch) {
  auto backlog = worker_.read_one_statement([](soci::session& s) { return pending_backlog(s); });
  auto now = std::chrono::steady_clock::now();
  std::size_t moved = 0;
  for (const auto& tenant : backlog) {
    auto stall = stalls_.find(tenant.tenant_id);
    if (stall != stalls_.end() && now < stall->second.retry_at) continue;
    try {
      moved += sequence_tenant(tenant.tenant_id, batch);
      if (stall != stalls_.end()) {
        notices_.push_back({false, "audit sequencer: " + tenant.tenant_id + " sequences again"});
        stalls_.erase(stall);
      }
    } catch (const std::exception& e) {
      // One tenant's events that cannot become leaves must not hold up the others'
      // (they are read per tenant); retried on a slower beat, logged once per stall.
      if (stall == stalls_.end())
        notices_.push_back({true, "audit sequencer: " + tenant.tenant_id + " is stalled: " + e.what() +
                                      " (retrying every " + std::to_string(stall_retry.count()) +
                                      " s; its events stay pending)"});
      stalls_[tenant.tenant_id] = {now + stall_retry, e.what()};
    }
  }
  return moved;
}

std::vector<Sequencer::Notice> Sequencer::take_notices() {
  return std::exchange(notices_, {});
}

namespace {

// The ids of `pending` that the tenant's log already holds. By id alone — ids are unique
// across tenants, and the log's unique index on id answers each in one probe. With the
// tenant in the WHERE too, a planner whose statistics were taken while the log was small
// (a fresh database filling up) chose the (tenant_id, recorded_at) index and read the
// tenant's whole log on every sequencing batch: 9 ms a batch at 20,000 events, growing.
std::set<std::string> ids_in_log(store::Transaction& tx, const std::vector<PendingEvent>& pending) {
  std::set<std::string> found;
  std::size_t first = 0;
  for (std::size_t rows : chunk_sizes(pending.size())) {
    std::vector<std::string> ids;
    for (std::size_t k = first; k < first + rows; ++k) ids.push_back(pending[k].id);
    std::vector<store::SqlValue> values;
    std::string list = store::bound_list(ids, values);
    store::query(tx.session(), "SELECT id FROM audit_log WHERE id IN " + list, values,
                 [&](const store::Row& r) { found.insert(store::required_text(r, 0)); });
    first += rows;
  }
  return found;
}

void delete_pending(store::Transaction& tx, const std::vector<std::int64_t>& seqs) {
  std::size_t first = 0;
  for (std::size_t rows : chunk_sizes(seqs.size())) {
    std::string list;
    std::vector<store::SqlValue> values;
    for (std::size_t k = first; k < first + rows; ++k) {
      list += (values.empty() ? "" : ", ") + store::placeholder(values.size());
      values.push_back(seqs[k]);
    }
    store::execute(tx.session(), "DELETE FROM audit_pending WHERE seq IN (" + list + ")", values);
    first += rows;
  }
}

}  // namespace

std::size_t Sequencer::sequence_tenant(const std::string& tenant_id, std::size_t batch) {
  return worker_.write("", [&](store::Transaction& tx) -> std::size_t {
    if (tx.backend() == store::Backend::postgresql) {
      // One sequencer per tenant at a time across nodes; different tenants may
      // sequence in parallel (a hash collision only serialises two of them).
      bool leader = false;
      store::query(tx.session(), "SELECT CASE WHEN pg_try_advisory_xact_lock(:p0, hashtext(:p1)) THEN 1 ELSE 0 END",
                   {sequencer_lock_class, tenant_id},
                   [&](const store::Row& r) { leader = store::integer_at(r, 0).value_or(0) != 0; });
      if (!leader) return 0;
    }
    auto pending = read_pending(tx, tenant_id, batch);
    if (pending.empty()) return 0;
    // A pending event already in the log (issue #26: its pending row outlived its
    // sequencing — a pooler ran another statement for the DELETE below, or audit_pending
    // was restored from an older backup) is removed without a second leaf; so is a
    // second pending row of one event. Appending it would fail on the id forever.
    std::set<std::string> logged = ids_in_log(tx, pending), seen;
    std::vector<const PendingEvent*> events;
    std::size_t repeated = 0;
    for (const auto& e : pending) {
      if (logged.count(e.id) || !seen.insert(e.id).second)
        ++repeated;
      else
        events.push_back(&e);
    }
    if (repeated > 0)
      notices_.push_back({true, "audit sequencer: " + tenant_id + ": " + std::to_string(repeated) +
                                    " pending event(s) were already in the log or pending twice; removed without a"
                                    " second leaf"});
    if (!events.empty()) append_events(tx, tenant_id, events, clock_.now());
    std::vector<std::int64_t> sequenced;
    for (const auto& e : pending) sequenced.push_back(e.pending_seq);
    delete_pending(tx, sequenced);
    return pending.size();
  });
}

}  // namespace nucleo::audit
