#pragma once

#include <string>
#include <vector>

#include "kernel/domain/actor.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::audit {

// One audit event as a service records it (docs/architecture.md §5, leaf fields before sequencing).
struct AuditEvent {
  std::string id;  // aud_…
  std::string tenant_id;
  Timestamp recorded_at;
  Actor actor;
  std::string action;  // "account.created", "deal.stage_changed", …
  std::string entity_type;
  std::string entity_id;
  std::string request_id;
  std::string source_ip;
  std::string reason;
  Json changes = Json::object();             // {field: {"from": …, "to": …}}
  std::vector<std::string> personal_fields;  // fields of `changes` holding personal data
  std::string subject_id;                    // whose personal data they are (empty: entity_id)
  // Erasure writes placeholders ("Erased contact", null) that are nobody's data: they
  // stay readable in the leaf, while the erased "from" values are committed.
  bool new_values_personal = true;
  // The write created the subject itself (a new contact): no key can exist for it yet,
  // so a new one waits with the transaction's appended rows instead of being inserted.
  bool subject_created = false;
};

// Field-level changes between two versions of a record: every field whose value
// differs, as {"from", "to"}; on create `before` is null and every non-null field
// appears with "from": null. System fields that change on every write (version,
// updated_at) are left out: the leaf has its own time.
Json diff_changes(const Json& before, const Json& after);

// Inserts into audit_pending inside the caller's transaction — the only writer of
// that table. Personal values never reach it: they are committed and sealed under the
// subject's key first (personal_data.hpp). The sequencer moves events on to the log.
void record_audit_event(store::Transaction& tx, const AuditEvent& event);

}  // namespace nucleo::audit
