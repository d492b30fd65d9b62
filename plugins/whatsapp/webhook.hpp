#pragma once

// What Meta's webhook sends (docs/channels/whatsapp.md): checking its signature and
// turning `entry[].changes[].value` into the kernel's conversations.receive messages
// and conversations.status reports. Pure functions: no host, unit-tested alone.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nucleo::whatsapp {

using Json = nlohmann::json;

// "sha256=" + hex HMAC-SHA256(app_secret, raw_body), compared in constant time.
bool signature_matches(const std::string& header, const std::string& app_secret, const std::string& raw_body);
// Two secrets compared in constant time (the verify token).
bool same_secret(const std::string& a, const std::string& b);
std::string hmac_sha256_hex(const std::string& key, const std::string& data);

// A webhook body's changes grouped by the number they are for: metadata.phone_number_id
// → the `value` objects. Changes of another field or of an unknown shape are counted
// in `skipped`, never fatal to the rest of the batch.
struct Batch {
  std::map<std::string, std::vector<Json>> values_by_number;
  std::vector<std::string> skipped;  // why each skipped change was skipped
};
// Throws std::invalid_argument when the body is not a WhatsApp Business Account webhook.
Batch split(const Json& payload);

// One `value`: its messages as conversations.receive takes them, and its statuses as
// conversations.status takes them. Items the kernel has no use for are in `skipped`.
struct Translated {
  std::vector<Json> messages;  // {"external_id", "type", "from", "text"?, "occurred_at"?, "content"}
  std::vector<Json> statuses;  // {"external_id", "status", "error"?}
  std::vector<std::string> skipped;
};
Translated translate(const Json& value);

// Whether a message's whole text is one of `keywords` (comma-separated, e.g.
// "sair,stop,parar promoções"): the person asks to receive no more marketing (LGPD
// art. 8 §5). Case, accents' case and surrounding blanks and punctuation do not matter.
bool is_opt_out(const std::string& text, const std::string& keywords);

// Meta's Unix-seconds timestamp ("1749416383") as RFC 3339; empty when malformed.
std::string rfc3339_of(const Json& unix_seconds);

}  // namespace nucleo::whatsapp
