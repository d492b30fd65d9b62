#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernel/services/record_service.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

// What an erasure did, for the caller and for its audit event.
struct ErasureReport {
  std::string contact_id;
  Timestamp erased_at;
  std::size_t interactions = 0;               // bodies erased
  std::size_t sealed_values_destroyed = 0;    // audit values no longer openable
  std::size_t idempotency_records_purged = 0;
  std::size_t outbox_events_purged = 0;
  std::size_t jobs_purged = 0;                // pending jobs carrying the subject's data
  std::size_t personal_attributes = 0;        // interactions whose personal plugin attributes went
  std::size_t plugin_records_deleted = 0;     // plugin documents about her ("on_erasure": "delete")
  std::size_t plugin_records_redacted = 0;    // … and those kept without her data ("redact")
  std::size_t channel_messages_erased = 0;    // outbound messages to her: content and address gone
  std::size_t privacy_reports_deleted = 0;    // access reports made for her (copies of the above)
  std::string audit_event_id;                 // the privacy.subject_erased event

  Json to_json() const;
};

// What plugins hold about a contact, read in `tx`: {"contact_id", "plugin_records":
// documents of collections declared personal that name her, "personal_attributes":
// attributes declared personal on her record and her interactions}.
Json plugin_held_data(store::Transaction& tx, AttributeSchemas& schemas, const std::string& tenant_id,
                      const Json& contact);

// Data-subject rights (LGPD art. 18 IV/VI, GDPR art. 17) and legal holds (docs/architecture.md §5,
// docs/compliance.md). Admin only; every call is audited.
class PrivacyService {
 public:
  explicit PrivacyService(ServiceDependencies deps) : deps_(deps) {}

  // Erases a contact in one transaction: refuses (409, naming the hold) while a legal
  // hold is active; anonymises the contact and the bodies of its interactions; destroys
  // the contact's key and sealed audit values; purges the copies in idempotency records
  // and outbox payloads; appends the erasure events. The audit log stays provable.
  ErasureReport erase_contact(const CallContext& ctx, const std::string& contact_id, const std::string& reason);

  // Retention (RetentionService, ADR 0041), each in its own transaction and refused (409,
  // naming the hold) while the subject is under a legal hold: one interaction's content —
  // subject, body, content and personal attributes — gone with every sealed copy of it in
  // the audit trail (false: it held none); one plugin document about a subject deleted or
  // redacted as its collection declares, likewise (false: already gone).
  bool expire_interaction_content(const CallContext& ctx, const std::string& interaction_id, const std::string& reason);
  bool expire_plugin_document(const CallContext& ctx, const std::string& plugin_id, const std::string& collection,
                              const std::string& id, const std::string& reason);

  // What plugins hold about a contact (docs/compliance.md, "What plugins hold"): the
  // documents of collections declared personal that name her, and the attributes
  // declared personal on her record and her interactions. Admin and auditor; audited
  // as privacy.subject_data_read.
  Json plugin_data(const CallContext& ctx, const std::string& contact_id);

  // A hold on a contact's data: erasure is refused until it is lifted.
  Json place_hold(const CallContext& ctx, const std::string& contact_id, const std::string& reason);
  Json lift_hold(const CallContext& ctx, const std::string& hold_id, const std::string& reason);
  // Holds of the tenant, newest first; only a subject's when `subject_id` is set.
  std::vector<Json> holds(const CallContext& ctx, const std::string& subject_id);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
