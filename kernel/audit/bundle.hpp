#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/bundle_verify.hpp"

namespace nucleo::audit {

// The export bundle (docs/architecture.md §5), a directory an auditor can check with no database:
//   manifest.json          {"format":"nucleo-audit-bundle","version":1,"origin","tenant_id",
//                           "first_seq","size","prefix":[b64 …],"exported_at",
//                           "pending_events": recorded, not yet sequenced, not here}
//   events.jsonl           one leaf per line, each line exactly the leaf's canonical bytes
//   checkpoints/<size>.note every signed checkpoint of the tenant
//   log.vkey               the verifier key of the origin (when a signing key is configured)
// `prefix` holds the hashes of the complete subtrees before first_seq (range_nodes({0,
// first_seq})), so a bundle that starts later still rebuilds the same roots; a
// checkpoint at or beyond first_seq pins them.
struct ExportSummary {
  std::uint64_t first_seq = 0, size = 0, checkpoints = 0;
  std::uint64_t pending_events = 0;  // recorded but not yet sequenced: not in the bundle
};
ExportSummary export_bundle(store::Database& worker, const std::string& tenant_id, std::uint64_t from_seq,
                            const std::string& origin, const std::optional<SigningKey>& key, const std::string& out_dir,
                            Timestamp now);

}  // namespace nucleo::audit
