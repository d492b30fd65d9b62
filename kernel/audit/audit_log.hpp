#pragma once

#include <chrono>
#include <map>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/checkpoint.hpp"
#include "kernel/audit/merkle.hpp"
#include "kernel/audit/proof_json.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/database.hpp"

namespace nucleo::audit {

// A tenant's tree as the database holds it: its size and root.
struct TreeHead {
  std::uint64_t size = 0;
  Hash root = empty_tree_root();
};

// Reads of the sequenced log inside a caller's transaction (any role that may read
// the tenant's audit tables). Proofs read the stored complete subtrees: one query each.
TreeHead read_tree_head(store::Transaction& tx, const std::string& tenant_id);
std::map<NodeId, Hash> read_nodes(store::Transaction& tx, const std::string& tenant_id,
                                  const std::vector<NodeId>& ids);

// Throw Error(validation) for sizes or indexes the tree does not have.
InclusionProof prove_inclusion(store::Transaction& tx, const std::string& tenant_id, std::uint64_t seq,
                               std::uint64_t tree_size);
ConsistencyProof prove_consistency(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size1,
                                   std::uint64_t size2);
// The inclusion proofs (their hashes, as InclusionProof::proof) of many leaves to one tree
// size, each stored node read once and a few hundred nodes per query: a subject's report
// proves thousands of records against one checkpoint. Every seq must be below tree_size.
std::vector<std::vector<Hash>> prove_inclusions(store::Transaction& tx, const std::string& tenant_id,
                                                const std::vector<std::uint64_t>& seqs, std::uint64_t tree_size);

// The root of the first `size` leaves (size ≤ the tree's size), from stored nodes.
Hash root_at(store::Transaction& tx, const std::string& tenant_id, std::uint64_t size);


// When and where checkpoints are published (audit.* keys).
struct CheckpointPolicy {
  std::string origin_host;               // origin = <origin_host>/nucleo/<tenant id>
  std::chrono::seconds interval{60};     // sign at least this often while the tree grows…
  std::uint64_t every_events = 1000;     // …or as soon as this many events are unsigned
  std::string publish_dir;               // also copy notes to <dir>/<tenant>/<size>.note
  std::string publish_url;               // also POST each note here (http://; serve does it)
};

std::string origin_of(const std::string& host, const std::string& tenant_id);

// Signs and stores a checkpoint for every tenant whose tree grew past its last
// checkpoint and is due under the policy (a tenant's first events are signed at once);
// copies each note, and the tenant's log.vkey, to the publish directory. Returns the
// notes signed.
struct SignedCheckpoint {
  std::string tenant_id;
  std::uint64_t size;
  std::string note;
};
std::vector<SignedCheckpoint> publish_checkpoints(store::Database& worker, const SigningKey& key, const CheckpointPolicy& policy,
                                Timestamp now);

// The newest signed note of the tenant, if any.
std::optional<std::string> latest_checkpoint_note(store::Transaction& tx, const std::string& tenant_id);

// Events recorded but not yet sequenced, per tenant: how many and since when. A
// backlog that keeps its oldest event for long means the tenant's sequencing stalled
// (/readyz, /metrics and `audit export` report it). Worker role.
struct PendingBacklog {
  std::string tenant_id;
  std::uint64_t events = 0;
  Timestamp oldest_recorded_at;
};
std::vector<PendingBacklog> pending_backlog(soci::session& session);

// Moves pending audit events into the log (docs/architecture.md §5). Each run takes, per tenant with
// pending events, up to `batch` of them in pending order, gives them the next gapless
// seq, builds the leaf (personal values replaced by commitments), stores leaf, leaf
// hash and every Merkle node the new leaves complete, advances the tree head and
// deletes the pending rows — one transaction per tenant on the worker database, so a
// tenant whose events cannot be sequenced holds up no other. On PostgreSQL a
// transaction advisory lock per tenant elects one sequencer; a node that does not get
// it skips the tenant at once (writers never wait for the tree).
class Sequencer {
 public:
  Sequencer(store::Database& worker, const Clock& clock) : worker_(worker), clock_(clock) {}

  // Number of events sequenced (0: nothing pending, or other nodes lead).
  std::size_t run_once(std::size_t batch = 500);

  // What changed since the last call: a tenant that stalled (with the reason), had
  // pending events the log already held, or sequences again — one line each, for the
  // caller's log.
  struct Notice {
    bool stalled;  // or otherwise wrong: logged as an error
    std::string text;
  };
  std::vector<Notice> take_notices();

 private:
  std::size_t sequence_tenant(const std::string& tenant_id, std::size_t batch);

  struct Stall {
    std::chrono::steady_clock::time_point retry_at;
    std::string reason;
  };
  store::Database& worker_;
  const Clock& clock_;
  std::map<std::string, Stall> stalls_;  // tenants whose last attempt failed
  std::vector<Notice> notices_;
};

}  // namespace nucleo::audit
