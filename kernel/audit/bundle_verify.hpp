#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nucleo::audit {

// The offline half of the bundle (see bundle.hpp for the format). Depends on nothing
// but the audit formats, OpenSSL and the filesystem, so fuzzers and outside tools can
// build it alone.
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
// `jobs` threads check lines and hash leaves (the bulk of the work); the verdict and its
// message do not depend on it.
VerifyReport verify_bundle(const std::string& dir, const std::optional<std::string>& trusted_note_file,
                           unsigned jobs = 1);

// Offline, a party bundle (one JSON file a vertical pack's regulator export answers:
// {"format": "nucleo-party-bundle", "checkpoint": note, "tree_size", "events": [{"seq",
// "leaf", "leaf_hash", "proof"}], …}): each event's leaf is canonical and hashes to its
// leaf_hash, each proof leads from it to the checkpoint's root at tree_size, and — given
// the log's verifier key (the log.vkey of a full export, or keygen's vkey=) — the
// checkpoint is signed by it. Events without a proof (newer than the checkpoint) are
// counted, not proven. A data subject's report ({"format": "nucleo-subject-report"})
// is checked the same way on its "audit" member.
VerifyReport verify_party_bundle(const std::string& file, const std::optional<std::string>& vkey_file);

}  // namespace nucleo::audit
