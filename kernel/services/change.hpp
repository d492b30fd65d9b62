#pragma once

// Internal to services/: the one door every write goes through (docs/architecture.md,
// "One door for writes").

#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

// One change to stored data, as the audit trail and the domain events report it.
struct Change {
  std::string action;       // "webhook.updated", "channel_message.sent", …
  std::string entity_type;  // "webhook"
  std::string entity_id;
  Json changes = Json::object();  // {field: {from, to}}: what the audit leaf holds — never a secret
  Json record;                    // the record as it now is, for the domain event (null when removed)
  std::vector<std::string> personal_fields;  // fields of `changes` holding personal data
  std::string subject_id;                    // whose personal data they are (empty: entity_id)
  bool new_values_personal = true;           // erasure's placeholders are nobody's data
  bool subject_created = false;              // this change created the subject (a new contact)
  // The domain event carries `changes` too, unless the old values must stay in the
  // audit trail alone (erasure: the outbox never gets what was erased).
  bool event_carries_changes = true;
  std::optional<Timestamp> at;  // the event's time; the call's clock when absent
};

// Records `change` inside the writing transaction `tx`: its audit event (audit_pending)
// and its domain event (outbox), both stamped with the caller of `ctx`. Every service
// write ends here; the suite fails when a transaction writes business data without
// both (tests/e2e: the write log). Returns the audit event's id.
std::string commit_change(store::Transaction& tx, const CallContext& ctx, const Change& change);

// An audit event of this call about one entity, stamped `at` — for what is audited but
// changes no stored data (a sensitive read, a plugin that failed to load).
audit::AuditEvent audit_event(const CallContext& ctx, std::string action, std::string entity_type,
                              std::string entity_id, Timestamp at);

}  // namespace nucleo::services
