#pragma once

// Secrets the kernel must use again later — webhook signing secrets, channel accounts'
// tokens — kept encrypted at rest (AES-256-GCM, a fresh nonce per value) under one
// deployment key that lives in a file, not in the database: a copy of the database
// alone does not reveal them. Each value is bound to what it belongs to (the AAD, e.g.
// "webhook:whk_…"), so a sealed value cannot be moved to another row unnoticed.

#include <optional>
#include <string>
#include <string_view>

#include "kernel/audit/merkle.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/database.hpp"

namespace nucleo::services {

class SecretBox {
 public:
  explicit SecretBox(const audit::Hash& key) : key_(key) {}

  // Reads the key file (base64 of 32 bytes). When it does not exist, creates it with a
  // new random key (mode 0600) and sets *created. Throws Error(validation) naming a
  // file that is unreadable or malformed.
  static SecretBox load_or_create(const std::string& path, bool* created = nullptr);
  // A random key, kept in memory only (tests, tools).
  static SecretBox generate();

  // base64(nonce ‖ ciphertext ‖ tag).
  std::string seal(std::string_view bound_to, std::string_view secret) const;
  // nullopt when it does not open (another key, another row, altered bytes).
  std::optional<std::string> open(std::string_view bound_to, std::string_view sealed) const;

  // HMAC-SHA256 of `data` (hex) under a key derived from the deployment key for `use`
  // ("unsubscribe-link"): links the kernel hands out and must recognise for years, on
  // every node, after restarts. One use's signatures are worthless for another.
  std::string signature(std::string_view use, std::string_view data) const;
  // Tells keys apart without revealing one: an HMAC of a fixed text under the key.
  std::string fingerprint() const;

 private:
  audit::Hash key_;
};

// Every process sharing a database must seal with the same key. The first to open it
// records `box`'s fingerprint (deployment_keys, migration 0041); a later one whose key
// differs — two nodes that each created a key file, a file copied from another
// deployment — is refused with Error(validation) saying what to copy where, and a key
// file this start created (`created_now`) is removed, so a retry does not keep it.
void bind_secrets_key(store::Database& worker, const SecretBox& box, const std::string& key_path, bool created_now,
                      const std::string& node_id, Timestamp now);

}  // namespace nucleo::services
