#pragma once

// The consent ledger (LGPD arts. 7, 8, 9; docs/compliance.md "Consent",
// docs/adr/0039-consent-is-a-ledger.md).
//
// For each contact and purpose, every grant and revocation is an immutable entry —
// legal basis, source, the notice shown, who recorded it and when — audited as
// consent.granted | consent.revoked. The state of a purpose is its latest entry; the
// contact's `consent` field holds it ({"marketing_email": "granted"}) and changes only
// with an entry (contact.consent_changed), so searches filter on it like any field.
//
// Purposes are the tenant's own (PUT /v1/privacy/purposes/{key}, admin) and those the
// loaded plugins declare in their manifests ("consent_purposes").
//
// Before any outbound message to a person, channels, automation and plugins ask
// allows(): a purpose is allowed while its latest entry grants it, whatever the basis.

#include <optional>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/secret_box.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

// What allows() found for one contact and purpose.
struct ConsentDecision {
  bool allowed = false;
  std::string state;        // "granted" | "revoked" | "none" (no entry yet)
  std::string legal_basis;  // of the latest entry; empty when none
  std::string entry_id;     // the latest entry; empty when none

  Json to_json() const;
};

// The legal bases of LGPD art. 7 (I–X), as the API spells them.
const std::vector<std::string>& legal_bases();

// Whether `key` is spelled as a purpose may be: [a-z][a-z0-9_]{0,63}.
bool is_purpose_key(const std::string& key);

// Throws Error(validation) naming `field` unless the tenant (or a loaded plugin) defines
// the purpose.
void require_known_purpose(store::Transaction& tx, const std::string& tenant_id, const std::string& purpose,
                           const std::string& field);

// What the ledger says about one contact's purpose, inside a running transaction.
ConsentDecision consent_decision(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id,
                                 const std::string& purpose);

// One-click unsubscribe links (RFC 8058; docs/compliance.md "Consent"): a token naming a
// contact's purpose, signed with a key derived from the deployment's secrets key, so it
// works for years, on any node, and cannot be forged or moved to another person.
struct UnsubscribeTarget {
  std::string tenant_id, contact_id, purpose;
};
std::string unsubscribe_token(const SecretBox& secrets, const UnsubscribeTarget& target);
// nullopt for a token that is not one of ours, or was altered.
std::optional<UnsubscribeTarget> read_unsubscribe_token(const SecretBox& secrets, const std::string& token);

class ConsentService {
 public:
  explicit ConsentService(ServiceDependencies deps) : deps_(deps) {}

  // The purposes a tenant may record consent for: its own, then the plugins' not
  // shadowed by one of its own — [{"key", "description", "declared_by": "tenant" |
  // <plugin id>}]. Every role.
  std::vector<Json> purposes(const CallContext& ctx);
  // Defines or re-describes one of the tenant's purposes ({"description"}); admin,
  // audited as privacy.purpose_defined. Purposes are never removed: entries name them.
  Json define_purpose(const CallContext& ctx, const std::string& key, const Json& body);

  // Records one entry for a contact the caller may change:
  // {"purpose", "action": "grant" | "revoke", "legal_basis"?, "source"?: {"type",
  //  "reference"?}, "notice"?}. A grant names its basis (a consent also the notice the
  // person saw); a revocation withdraws the current basis unless it names one. Returns
  // {"entry", "state"}.
  Json record(const CallContext& ctx, const std::string& contact_id, const Json& body);

  // The ledger of a contact the caller may see: {"contact_id", "purposes": [the state
  // of each purpose with an entry], "entries": [oldest first]}.
  Json history(const CallContext& ctx, const std::string& contact_id);

  // Whether a message for `purpose` may go to the contact (the kernel check channels,
  // automation and plugins call). Unknown purposes are refused (validation).
  ConsentDecision allows(const CallContext& ctx, const std::string& contact_id, const std::string& purpose);

  // Records that an outbound message to the contact was refused for want of a basis
  // (consent.send_refused, on the contact), in a transaction of its own, then throws
  // Error(validation) with `detail`, naming the field "purpose" (code no_legal_basis).
  // What an unsubscribe link is about, for the page that asks to confirm:
  // {"purpose", "description", "organisation", "state"}. Not found for a token that is
  // not ours or names a contact that no longer exists.
  Json unsubscribe_page(const CallContext& ctx, const std::string& token);
  // Revokes the link's purpose (source unsubscribe_link, actor system "unsubscribe-link")
  // unless it is revoked already; returns unsubscribe_page's answer after it.
  Json unsubscribe(const CallContext& ctx, const std::string& token);

  [[noreturn]] void refuse_send(const CallContext& ctx, const std::string& contact_id, const std::string& purpose,
                                const std::string& channel_account_id, const std::string& detail);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
