#pragma once

#include <cstdint>
#include <vector>

#include "kernel/audit/merkle.hpp"
#include "kernel/domain/entity.hpp"

namespace nucleo::audit {

struct InclusionProof {
  std::uint64_t leaf_index = 0, tree_size = 0;
  Hash leaf_hash{}, root{};
  std::vector<Hash> proof;
};
struct ConsistencyProof {
  std::uint64_t size1 = 0, size2 = 0;
  Hash root1{}, root2{};
  std::vector<Hash> proof;
};
// The proof formats of the CLI and the API (base64 hashes, RFC 9162 order):
//   {"leaf_index","tree_size","root","leaf_hash","proof":[…]}
//   {"size1","size2","root1","root2","proof":[…]}
Json to_json(const InclusionProof& p);
Json to_json(const ConsistencyProof& p);
// Throw Error(validation) naming the first missing or malformed member.
InclusionProof inclusion_proof_from_json(const Json& j);
ConsistencyProof consistency_proof_from_json(const Json& j);

}  // namespace nucleo::audit
