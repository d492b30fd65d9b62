#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/audit_log.hpp"
#include "kernel/audit/export_formats.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Filters of GET /v1/audit/events; every one optional. Times are µs since the epoch.
struct AuditQuery {
  std::string actor_id, entity_type, entity_id, action;
  std::optional<std::int64_t> from, to;  // recorded_at, from inclusive, to exclusive
  std::optional<std::int64_t> after_seq;  // keyset cursor
  std::size_t limit = 50;
};

struct AuditPage {
  std::vector<Json> events;  // {"seq","leaf_hash" (base64),"leaf" (the leaf object)}
  std::optional<std::int64_t> last_seq;  // set when a further page may exist
};

// The compliance officer's reads of the sequenced log (docs/architecture.md §5). Only the auditor
// and admin roles may read it, and each read is itself recorded as an audit event in
// the same transaction ("audit.events_read", "audit.proof_read").
class AuditService {
 public:
  explicit AuditService(ServiceDependencies deps) : deps_(deps) {}

  AuditPage events(const CallContext& ctx, const AuditQuery& query);
  audit::InclusionProof inclusion(const CallContext& ctx, std::uint64_t seq, std::uint64_t tree_size);
  audit::ConsistencyProof consistency(const CallContext& ctx, std::uint64_t first, std::uint64_t second);
  audit::TreeHead head(const CallContext& ctx);
  // The newest signed checkpoint note; Error(not_found) before the first one.
  std::string checkpoint(const CallContext& ctx);
  // Every sequenced version of one record, oldest first, with personal values opened
  // while their subject's key exists: {"entity", "tree_size", "versions": [{"seq", "id",
  // "recorded_at", "actor", "action", "reason", "request_id", "changes", "leaf_hash",
  // "proof"}]}. With `as_of` (µs), only versions recorded at or before it, and "record":
  // the record as it was then (null before it existed). Error(not_found) when the log
  // holds nothing about the record.
  Json history(const CallContext& ctx, const std::string& entity_type, const std::string& entity_id,
               std::optional<std::int64_t> as_of);
  // Streams the events matching `query` (its limit ignored) to `each`, oldest first, a
  // page per read transaction so memory stays flat on any log size. The caller records
  // the export first (record_export). Stops early when `each` returns false.
  void for_each_event(const CallContext& ctx, AuditQuery query,
                      const std::function<bool(const audit::LoggedEvent&)>& each);
  // One party's trail for an examiner (a vertical pack's regulator export): for each
  // entity {type, id}, its events recorded at or before `as_of` with their exact leaf
  // bytes and, for those the newest signed checkpoint covers, an inclusion proof to it;
  // and the entity as it was then (its history's "record"). {"checkpoint": the note,
  // "tree_size", "events": [{"seq", "entity_type", "entity_id", "leaf", "leaf_hash",
  // "proof": [base64…] | null}], "records": {"<type>/<id>": record | null}}. Newer events
  // have no proof: nothing signed pins them yet. Recorded as one audit.proof_read.
  Json entity_proofs(const CallContext& ctx, const std::vector<std::pair<std::string, std::string>>& entities,
                     std::optional<std::int64_t> as_of);
  // A data subject's trail for her access report (PrivacyRequestService): for each entity
  // {type, id} — any number — every version with personal values opened while her key
  // exists ({"type/id": [{"seq", "recorded_at", "actor", "action", "changes"}]}), and the
  // newest event of each with its exact leaf and an inclusion proof to the newest signed
  // checkpoint, in the party-bundle shape `nucleo audit verify` checks offline:
  // {"checkpoint": note | null, "tree_size", "history", "events": [{"seq", "entity_type",
  // "entity_id", "leaf", "leaf_hash", "proof": [base64…] | null}]}. One read transaction,
  // so every proof leads to the same root; `progress(n)` after each n entities read.
  // Recorded as one audit.subject_trail_read.
  Json subject_trail(const CallContext& ctx, const std::vector<std::pair<std::string, std::string>>& entities,
                     const std::function<void(std::size_t)>& progress);
  // Records that the log was exported (nucleo audit export), with what was exported.
  void record_export(const CallContext& ctx, const Json& what);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
