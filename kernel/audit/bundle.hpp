#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kernel/audit/audit_log.hpp"

namespace nucleo::audit {

// The export bundle (DESIGN §5), a directory an auditor can check with no database:
//   manifest.json          {"format":"nucleo-audit-bundle","version":1,"origin","tenant_id",
//                           "first_seq","size","prefix":[b64 …],"exported_at"}
//   events.jsonl           one leaf per line, each line exactly the leaf's canonical bytes
//   checkpoints/<size>.note every signed checkpoint of the tenant
//   log.vkey               the verifier key of the origin (when a signing key is configured)
// `prefix` holds the hashes of the complete subtrees before first_seq (range_nodes({0,
// first_seq})), so a bundle that starts later still rebuilds the same roots; a
// checkpoint at or beyond first_seq pins them.
struct ExportSummary {
  std::uint64_t first_seq = 0, size = 0, checkpoints = 0;
};
ExportSummary export_bundle(store::Database& worker, const std::string& tenant_id, std::uint64_t from_seq,
                            const std::string& origin, const std::optional<SigningKey>& key, const std::string& out_dir,
                            Timestamp now);

// What `nucleo audit verify` concluded.
enum class Verdict { pass, fail, unusable };
struct VerifyReport {
  Verdict verdict = Verdict::unusable;
  std::string message;  // "PASS: …", or the first failure: which seq or checkpoint, and why
  std::uint64_t events = 0, checkpoints_checked = 0;
};

// Offline: hashes each raw line, checks every line is canonical and seq gapless from
// first_seq, rebuilds the tree, checks each checkpoint's signature (log.vkey) and its
// root at its size, and — given the note of a checkpoint the auditor kept — that the
// bundle's log is consistent with it (same root at that size; not shorter).
VerifyReport verify_bundle(const std::string& dir, const std::optional<std::string>& trusted_note_file);

}  // namespace nucleo::audit
