#pragma once

// Personal values in the audit trail (docs/architecture.md §5, ADR 0012). A leaf holds only
// {"commitment": base64(SHA-256(salt ‖ canonical value))}; the salt and value are kept
// sealed with AES-256-GCM under a key of the value's data subject. Destroying that key
// (erasure) makes the values unrecoverable while every leaf hash stays what it was.

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "kernel/audit/merkle.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::audit {

using SubjectKey = Hash;  // 32 random bytes: an AES-256 key

// AES-256-GCM with a fresh random 96-bit nonce: returns nonce ‖ ciphertext ‖ 16-byte tag.
std::string seal(const SubjectKey& key, std::string_view aad, std::string_view plaintext);
// nullopt when the tag does not verify (wrong key, wrong AAD, altered bytes).
std::optional<std::string> unseal(const SubjectKey& key, std::string_view aad, std::string_view sealed);

// What a sealed value is bound to: event id ‖ 0x1F ‖ field ‖ 0x1F ‖ side ("from"/"to"),
// so a sealed value cannot be moved to another event, field or side unnoticed.
std::string sealed_value_aad(std::string_view event_id, std::string_view field, std::string_view side);

// base64(SHA-256(salt ‖ canonical value)): the leaf's stand-in for a personal value.
std::string commitment_of(std::string_view salt, std::string_view canonical_value);

// Replaces each non-null value of `personal_fields` in `changes` by its commitment and
// stores salt ‖ value sealed under the subject's key (created on first use), in the
// caller's transaction. Returns the committed changes, which are all that leaves it.
// With `seal_to` false only the "from" values are (an erasure's new values are not
// personal data). `known`: what the writer knows of the subject's key.
enum class KnownKey {
  probably_exists,  // read it first
  probably_new,     // the record being written is the subject: try inserting one first
  certainly_new,    // the write created the subject: a new key waits with the transaction's appended rows
};
Json seal_personal_values(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id,
                          const std::string& event_id, const Json& changes,
                          const std::vector<std::string>& personal_fields, Timestamp now, bool seal_to = true,
                          KnownKey known = KnownKey::probably_exists);

// The keys of many subjects read in one statement, for a transaction that seals the
// values of many events about them (a mailbox's batch of received messages: a few
// hundred contacts, one look-up instead of one per message). While it lives,
// seal_personal_values on this thread consults it for that transaction. It holds only
// keys that existed when it read them — never one created in the transaction, which a
// rolled-back savepoint could take away — and forgets a subject whose key
// destroy_subject_key deletes. A subject it does not hold is asked of the database as
// before. The keys are wiped from memory when it ends.
class SubjectKeyCache {
 public:
  SubjectKeyCache(store::Transaction& tx, const std::string& tenant_id, const std::set<std::string>& subjects);
  ~SubjectKeyCache();
  SubjectKeyCache(const SubjectKeyCache&) = delete;
  SubjectKeyCache& operator=(const SubjectKeyCache&) = delete;

  // The cache of `tx` on this thread, if one is open.
  static SubjectKeyCache* of(const store::Transaction& tx);
  std::optional<SubjectKey> key_of(const std::string& tenant_id, const std::string& subject_id) const;
  void forget(const std::string& tenant_id, const std::string& subject_id);

 private:
  store::Transaction& tx_;
  std::string tenant_id_;
  SubjectKeyCache* outer_;
  std::map<std::string, SubjectKey> keys_;
};

// A personal value as the workbench shows it: the value when its subject's key still
// opens it and it matches the leaf's commitment, else {"erased": true, "commitment"}.
// `changes` is a leaf's "changes" object; every {"commitment"} in it is replaced.
using SealedValueKey = std::tuple<std::string, std::string, std::string>;  // event id, field, side
class PersonalValueOpener {
 public:
  // Reads, in one query, the sealed values and subjects' keys of the tenant's logged
  // events that match `condition` on audit_log aliased `l` (placeholders from :p1 on;
  // :p0 is the tenant), e.g. "l.entity_type = :p1 AND l.entity_id = :p2".
  PersonalValueOpener(store::Transaction& tx, const std::string& tenant_id, const std::string& condition,
                      const std::vector<store::SqlValue>& values);
  Json open(const std::string& event_id, Json changes) const;

 private:
  std::map<SealedValueKey, Json> opened_;
};

// Erasure's core (ADR 0012): deletes the subject's sealed values and key, in the
// caller's transaction. Returns the number of sealed values destroyed.
std::size_t destroy_subject_key(store::Transaction& tx, const std::string& tenant_id, const std::string& subject_id);

// Retention of one record (ADR 0041): deletes the sealed values of every event about it
// — logged or still pending —, so its old values never open again while the subject's key
// and her other values stay. In the caller's transaction; returns how many.
std::size_t destroy_sealed_values_of(store::Transaction& tx, const std::string& tenant_id,
                                     const std::string& entity_type, const std::string& entity_id);

}  // namespace nucleo::audit
