// Proof files and API answers come from outside: parsing and verifying any input must
// end in a result or an Error, never a crash.
#include <cstdint>
#include <string_view>

#include "kernel/audit/proof_json.hpp"
#include "kernel/domain/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto j = nucleo::Json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (j.is_discarded()) return 0;
  using namespace nucleo::audit;
  try {
    auto p = inclusion_proof_from_json(j);
    verify_inclusion(p.leaf_index, p.tree_size, p.leaf_hash, p.proof, p.root);
  } catch (const nucleo::Error&) {
  }
  try {
    auto p = consistency_proof_from_json(j);
    verify_consistency(p.size1, p.size2, p.root1, p.root2, p.proof);
  } catch (const nucleo::Error&) {
  }
  return 0;
}
