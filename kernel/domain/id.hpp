#pragma once

#include <string>
#include <string_view>

#include "kernel/domain/time.hpp"

namespace nucleo {

// Entity id prefixes (docs/architecture.md §3). An id reads as `<prefix>_<26 base32 chars>`.
namespace id_prefix {
inline constexpr std::string_view tenant = "ten";
inline constexpr std::string_view user = "usr";
inline constexpr std::string_view team = "team";
inline constexpr std::string_view api_key = "key";
inline constexpr std::string_view user_session = "ses";  // a person's browser session (ADR 0046)
inline constexpr std::string_view account = "acc";
inline constexpr std::string_view contact = "con";
inline constexpr std::string_view pipeline = "pipe";
inline constexpr std::string_view stage = "stg";
inline constexpr std::string_view deal = "deal";
inline constexpr std::string_view interaction = "int";
inline constexpr std::string_view task = "task";
inline constexpr std::string_view product = "prd";
inline constexpr std::string_view proposal = "prop";
inline constexpr std::string_view audit_event = "aud";
inline constexpr std::string_view domain_event = "evt";
inline constexpr std::string_view job = "job";
inline constexpr std::string_view webhook = "whk";
inline constexpr std::string_view webhook_delivery = "whd";
inline constexpr std::string_view channel_account = "chn";
inline constexpr std::string_view channel_message = "msg";
inline constexpr std::string_view conversation = "cnv";
inline constexpr std::string_view legal_hold = "hold";
inline constexpr std::string_view privacy_request = "dsr";  // a data-subject request (LGPD art. 18)
inline constexpr std::string_view retention_run = "ret";    // one run of the retention policies
inline constexpr std::string_view consent_entry = "cns";  // one grant or revocation (consent ledger)
inline constexpr std::string_view stage_history = "dsh";  // a deal's stay in one stage
inline constexpr std::string_view close_history = "dch";  // a deal's expected close, from when it was set
inline constexpr std::string_view bulk_import = "imp";
inline constexpr std::string_view automation_rule = "rul";
inline constexpr std::string_view cadence = "cad";
inline constexpr std::string_view cadence_enrolment = "enr";  // a contact's way through a cadence
inline constexpr std::string_view proposal_template = "ptm";
inline constexpr std::string_view proposal_link = "plk";  // a public link to one frozen proposal revision
}  // namespace id_prefix

// A new id: a UUIDv7 body (RFC 9562 §5.7: 48-bit Unix milliseconds, version, 74
// random bits from a CSPRNG, no counter) in lower-case Crockford base32. Ids of one
// prefix sort by creation millisecond, and cannot be guessed from one another.
std::string generate_id(std::string_view prefix, Timestamp now);

// True when `id` is `<prefix>_` followed by a well-formed body.
bool is_valid_id(std::string_view id, std::string_view prefix);

}  // namespace nucleo
