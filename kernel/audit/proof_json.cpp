#include "kernel/audit/proof_json.hpp"

#include "kernel/domain/error.hpp"

namespace nucleo::audit {
namespace {

Error bad_proof_request(const std::string& why) {
  return Error(ErrorCode::validation, why);
}

Json base64_list(const std::vector<Hash>& hashes) {
  Json out = Json::array();
  for (const auto& h : hashes) out.push_back(to_base64(h));
  return out;
}

std::uint64_t size_member(const Json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_number_integer() || j[name].get<std::int64_t>() < 0)
    throw bad_proof_request(std::string(name) + " must be a non-negative integer");
  return j[name].get<std::uint64_t>();
}

Hash hash_member(const Json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) throw bad_proof_request(std::string(name) + " must be a base64 string");
  auto h = hash_from_base64(j[name].get<std::string>());
  if (!h) throw bad_proof_request(std::string(name) + " is not a base64 SHA-256 hash");
  return *h;
}

std::vector<Hash> proof_member(const Json& j) {
  if (!j.contains("proof") || !j["proof"].is_array()) throw bad_proof_request("proof must be an array");
  if (j["proof"].size() > 128) throw bad_proof_request("proof has more than 128 hashes");
  std::vector<Hash> out;
  for (const auto& item : j["proof"]) {
    auto h = item.is_string() ? hash_from_base64(item.get<std::string>()) : std::nullopt;
    if (!h) throw bad_proof_request("proof[" + std::to_string(out.size()) + "] is not a base64 SHA-256 hash");
    out.push_back(*h);
  }
  return out;
}

void require_object(const Json& j) {
  if (!j.is_object()) throw bad_proof_request("a proof must be a JSON object");
}

}  // namespace

Json to_json(const InclusionProof& p) {
  return Json{{"leaf_index", p.leaf_index},       {"tree_size", p.tree_size}, {"root", to_base64(p.root)},
              {"leaf_hash", to_base64(p.leaf_hash)}, {"proof", base64_list(p.proof)}};
}

Json to_json(const ConsistencyProof& p) {
  return Json{{"size1", p.size1},
              {"size2", p.size2},
              {"root1", to_base64(p.root1)},
              {"root2", to_base64(p.root2)},
              {"proof", base64_list(p.proof)}};
}

InclusionProof inclusion_proof_from_json(const Json& j) {
  require_object(j);
  return {size_member(j, "leaf_index"), size_member(j, "tree_size"), hash_member(j, "leaf_hash"),
          hash_member(j, "root"), proof_member(j)};
}

ConsistencyProof consistency_proof_from_json(const Json& j) {
  require_object(j);
  return {size_member(j, "size1"), size_member(j, "size2"), hash_member(j, "root1"), hash_member(j, "root2"),
          proof_member(j)};
}

}  // namespace nucleo::audit
