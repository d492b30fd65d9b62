#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::audit {

// The Merkle tree of RFC 9162 §2.1 (as in RFC 6962): leaf hash = SHA-256(0x00 ‖ leaf),
// interior node = SHA-256(0x01 ‖ left ‖ right), a tree of n leaves splits at the
// largest power of two below n.
using Hash = std::array<unsigned char, 32>;

Hash sha256(std::string_view data);
Hash leaf_hash(std::string_view leaf);
Hash node_hash(const Hash& left, const Hash& right);
Hash empty_tree_root();  // SHA-256 of nothing: the root of a tree with no leaves

std::string to_hex(const Hash& h);
std::optional<Hash> hash_from_hex(std::string_view hex);
std::string to_base64(const Hash& h);
std::optional<Hash> hash_from_base64(std::string_view text);

// A complete (perfect) subtree: the 2^level leaves from index·2^level on. Stored trees
// keep exactly these nodes, so any proof reads O(log n) of them.
struct NodeId {
  int level = 0;
  std::uint64_t index = 0;
  auto operator<=>(const NodeId&) const = default;
};

// A run of leaves [begin, end) whose root a proof carries.
struct LeafRange {
  std::uint64_t begin = 0, end = 0;
  bool operator==(const LeafRange&) const = default;
};

// The complete subtrees that make up the range, left to right (largest first). Ranges
// in proofs always start at a multiple of their largest part, so these are stored nodes.
std::vector<NodeId> range_nodes(const LeafRange& range);
// The root of a range from the hashes of range_nodes(range), in the same order.
Hash range_root(const std::vector<Hash>& parts);

// Which ranges an inclusion proof (RFC 9162 §2.1.3.1) and a consistency proof (§2.1.4.1)
// carry, in proof order. Preconditions: index < size; 0 < size1 ≤ size2.
std::vector<LeafRange> inclusion_ranges(std::uint64_t leaf_index, std::uint64_t tree_size);
std::vector<LeafRange> consistency_ranges(std::uint64_t size1, std::uint64_t size2);

// Turns ranges into proof hashes, reading each stored node once through `fetch`
// (one call for the whole proof, so a database answers it with one query).
using NodeFetch = std::function<std::map<NodeId, Hash>(const std::vector<NodeId>&)>;
std::vector<Hash> proof_hashes(const std::vector<LeafRange>& ranges, const NodeFetch& fetch);

// RFC 9162 §2.1.3.2 and §2.1.4.2. Consistency between equal sizes needs an empty proof
// and equal roots; size1 = 0 or size1 > size2 is never valid.
bool verify_inclusion(std::uint64_t leaf_index, std::uint64_t tree_size, const Hash& leaf, const std::vector<Hash>& proof,
                      const Hash& root);
bool verify_consistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1, const Hash& root2,
                        const std::vector<Hash>& proof);

// The right edge of a growing tree: append leaf hashes one by one and get the root of
// what is there so far, plus each complete node the append finished (the sequencer
// stores them). Rebuilt from the stored nodes of range_nodes({0, size}).
class MerkleFrontier {
 public:
  MerkleFrontier() = default;
  MerkleFrontier(std::uint64_t size, std::vector<Hash> edge);  // edge = hashes of range_nodes({0, size})

  struct Completed {
    NodeId id;
    Hash hash;
  };
  std::vector<Completed> append(const Hash& leaf);
  void push(const Hash& leaf);  // append() without reporting the finished nodes (verifiers)
  Hash root() const;
  std::uint64_t size() const { return size_; }

 private:
  std::uint64_t size_ = 0;
  std::vector<std::pair<int, Hash>> edge_;  // (level, hash), left to right
};

}  // namespace nucleo::audit
