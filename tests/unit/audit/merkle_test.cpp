#include "kernel/audit/merkle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nucleo::audit {
namespace {

// An independent reference: RFC 9162's recursive definitions, straight from the leaves,
// sharing nothing with merkle.cpp but the two hash functions.
std::uint64_t largest_power_below(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash mth(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  if (end - begin == 1) return leaves[begin];
  std::size_t k = largest_power_below(end - begin);
  return node_hash(mth(leaves, begin, begin + k), mth(leaves, begin + k, end));
}

std::vector<Hash> reference_path(const std::vector<Hash>& l, std::size_t m, std::size_t begin, std::size_t end) {
  std::size_t n = end - begin;
  if (n == 1) return {};
  std::size_t k = largest_power_below(n);
  std::vector<Hash> out;
  if (m < k) {
    out = reference_path(l, m, begin, begin + k);
    out.push_back(mth(l, begin + k, end));
  } else {
    out = reference_path(l, m - k, begin + k, end);
    out.push_back(mth(l, begin, begin + k));
  }
  return out;
}

std::vector<Hash> reference_subproof(const std::vector<Hash>& l, std::size_t m, std::size_t begin, std::size_t end,
                                     bool whole) {
  std::size_t n = end - begin;
  if (m == n) return whole ? std::vector<Hash>{} : std::vector<Hash>{mth(l, begin, end)};
  std::size_t k = largest_power_below(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = reference_subproof(l, m, begin, begin + k, whole);
    out.push_back(mth(l, begin + k, end));
  } else {
    out = reference_subproof(l, m - k, begin + k, end, false);
    out.push_back(mth(l, begin, begin + k));
  }
  return out;
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// The tree as the sequencer stores it: every complete node, built by MerkleFrontier.
struct StoredTree {
  std::map<NodeId, Hash> nodes;
  MerkleFrontier frontier;
  void append(const Hash& leaf) {
    for (const auto& c : frontier.append(leaf)) nodes[c.id] = c.hash;
  }
  NodeFetch fetch() const {
    return [this](const std::vector<NodeId>& ids) {
      std::map<NodeId, Hash> out;
      for (const auto& id : ids)
        if (auto it = nodes.find(id); it != nodes.end()) out[id] = it->second;
      return out;
    };
  }
};

std::vector<Hash> leaves_of(std::size_t n) {
  std::vector<Hash> leaves;
  for (std::size_t i = 0; i < n; ++i) leaves.push_back(leaf_hash("leaf " + std::to_string(i)));
  return leaves;
}

TEST(Merkle, ReproducesThePublishedRfc6962Root) {
  std::vector<std::string> hex = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                  "606162636465666768696a6b6c6d6e6f"};
  StoredTree tree;
  for (const auto& h : hex) tree.append(leaf_hash(unhex(h)));
  EXPECT_EQ(to_hex(tree.frontier.root()), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  EXPECT_EQ(to_hex(leaf_hash("")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(to_hex(empty_tree_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Merkle, FrontierRootEqualsTheRecursiveDefinitionAtEverySize) {
  auto leaves = leaves_of(130);
  StoredTree tree;
  for (std::size_t n = 1; n <= leaves.size(); ++n) {
    tree.append(leaves[n - 1]);
    ASSERT_EQ(tree.frontier.root(), mth(leaves, 0, n)) << "size " << n;
  }
}

TEST(Merkle, FrontierRebuiltFromStoredNodesContinuesTheSameTree) {
  auto leaves = leaves_of(50);
  StoredTree tree;
  for (std::size_t i = 0; i < 37; ++i) tree.append(leaves[i]);
  std::vector<Hash> edge;
  for (const auto& id : range_nodes({0, 37})) edge.push_back(tree.nodes.at(id));
  MerkleFrontier resumed(37, edge);
  for (std::size_t i = 37; i < 50; ++i) resumed.append(leaves[i]);
  EXPECT_EQ(resumed.root(), mth(leaves, 0, 50));
}

TEST(Merkle, InclusionProofsForEveryIndexAndSizeUpTo64MatchTheReferenceAndVerify) {
  auto leaves = leaves_of(64);
  StoredTree tree;
  for (std::uint64_t n = 1; n <= 64; ++n) {
    tree.append(leaves[n - 1]);
    Hash root = mth(leaves, 0, n);
    for (std::uint64_t m = 0; m < n; ++m) {
      auto proof = proof_hashes(inclusion_ranges(m, n), tree.fetch());
      ASSERT_EQ(proof, reference_path(leaves, m, 0, n)) << m << " in " << n;
      ASSERT_TRUE(verify_inclusion(m, n, leaves[m], proof, root)) << m << " in " << n;
    }
  }
}

TEST(Merkle, ConsistencyProofsForEverySizePairUpTo64MatchTheReferenceAndVerify) {
  auto leaves = leaves_of(64);
  StoredTree tree;
  for (const auto& l : leaves) tree.append(l);
  for (std::uint64_t n = 1; n <= 64; ++n) {
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = proof_hashes(consistency_ranges(m, n), tree.fetch());
      ASSERT_EQ(proof, reference_subproof(leaves, m, 0, n, true)) << m << " → " << n;
      ASSERT_TRUE(verify_consistency(m, n, mth(leaves, 0, m), mth(leaves, 0, n), proof)) << m << " → " << n;
    }
  }
}

Hash flipped(Hash h, int bit) {
  h[static_cast<std::size_t>(bit / 8) % 32] ^= static_cast<unsigned char>(1 << (bit % 8));
  return h;
}

TEST(Merkle, TamperedInclusionProofsAreRejected) {
  auto leaves = leaves_of(64);
  StoredTree tree;
  for (const auto& l : leaves) tree.append(l);
  for (std::uint64_t n : {2u, 3u, 7u, 8u, 13u, 32u, 63u, 64u}) {
    Hash root = mth(leaves, 0, n);
    for (std::uint64_t m = 0; m < n; ++m) {
      auto proof = proof_hashes(inclusion_ranges(m, n), tree.fetch());
      SCOPED_TRACE(std::to_string(m) + " in " + std::to_string(n));
      EXPECT_FALSE(verify_inclusion(m, n, flipped(leaves[m], 3), proof, root));
      EXPECT_FALSE(verify_inclusion(m, n, leaves[m], proof, flipped(root, 200)));
      for (std::size_t i = 0; i < proof.size(); ++i) {
        auto bad = proof;
        bad[i] = flipped(bad[i], static_cast<int>(i * 7));
        EXPECT_FALSE(verify_inclusion(m, n, leaves[m], bad, root));
      }
      if (m + 1 < n) {
        EXPECT_FALSE(verify_inclusion(m + 1, n, leaves[m], proof, root));
      }
      if (m > 0) {
        EXPECT_FALSE(verify_inclusion(m - 1, n, leaves[m], proof, root));
      }
      EXPECT_FALSE(verify_inclusion(m, n * 2, leaves[m], proof, root));
      if (n / 2 > m) {
        EXPECT_FALSE(verify_inclusion(m, n / 2, leaves[m], proof, root));
      }
      EXPECT_FALSE(verify_inclusion(n, n, leaves[m], proof, root));  // index out of range
      auto extra = proof;
      extra.push_back(leaves[0]);
      EXPECT_FALSE(verify_inclusion(m, n, leaves[m], extra, root));
      if (!proof.empty()) {
        auto missing = proof;
        missing.pop_back();
        EXPECT_FALSE(verify_inclusion(m, n, leaves[m], missing, root));
      }
      if (proof.size() >= 2) {
        auto swapped = proof;
        std::swap(swapped[0], swapped[1]);
        EXPECT_FALSE(verify_inclusion(m, n, leaves[m], swapped, root));
      }
    }
  }
}

TEST(Merkle, TamperedConsistencyProofsAreRejected) {
  auto leaves = leaves_of(64);
  StoredTree tree;
  for (const auto& l : leaves) tree.append(l);
  for (std::uint64_t n : {2u, 5u, 8u, 13u, 32u, 64u}) {
    for (std::uint64_t m = 1; m < n; ++m) {
      Hash r1 = mth(leaves, 0, m), r2 = mth(leaves, 0, n);
      auto proof = proof_hashes(consistency_ranges(m, n), tree.fetch());
      SCOPED_TRACE(std::to_string(m) + " → " + std::to_string(n));
      EXPECT_FALSE(verify_consistency(m, n, flipped(r1, 1), r2, proof));
      EXPECT_FALSE(verify_consistency(m, n, r1, flipped(r2, 9), proof));
      for (std::size_t i = 0; i < proof.size(); ++i) {
        auto bad = proof;
        bad[i] = flipped(bad[i], 17);
        EXPECT_FALSE(verify_consistency(m, n, r1, r2, bad));
      }
      EXPECT_FALSE(verify_consistency(m, n * 2, r1, r2, proof));
      if (m > 1 && m * 2 <= n) {
        EXPECT_FALSE(verify_consistency(m * 2, n, r1, r2, proof));
      }
      EXPECT_FALSE(verify_consistency(0, n, r1, r2, proof));
      EXPECT_FALSE(verify_consistency(n, m, r2, r1, proof));  // size1 > size2
      auto missing = proof;
      missing.pop_back();
      EXPECT_FALSE(verify_consistency(m, n, r1, r2, missing));
      auto extra = proof;
      extra.push_back(r1);
      EXPECT_FALSE(verify_consistency(m, n, r1, r2, extra));
      if (proof.size() >= 2) {
        auto swapped = proof;
        std::swap(swapped.front(), swapped.back());
        EXPECT_FALSE(verify_consistency(m, n, r1, r2, swapped));
      }
    }
  }
  Hash r = mth(leaves, 0, 8);
  EXPECT_TRUE(verify_consistency(8, 8, r, r, {}));
  EXPECT_FALSE(verify_consistency(8, 8, r, r, {r}));
}

TEST(Merkle, HashesRoundTripThroughHexAndStrictBase64) {
  Hash h = leaf_hash("x");
  EXPECT_EQ(hash_from_hex(to_hex(h)), h);
  EXPECT_EQ(hash_from_base64(to_base64(h)), h);
  EXPECT_EQ(to_base64(h).size(), 44u);
  EXPECT_FALSE(hash_from_base64(to_base64(h).substr(0, 43)));
  EXPECT_FALSE(hash_from_base64(std::string(44, '!')));
  EXPECT_FALSE(hash_from_hex("zz"));
}

}  // namespace
}  // namespace nucleo::audit
