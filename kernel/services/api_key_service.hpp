#pragma once

#include <string>
#include <vector>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// API keys (docs/architecture.md §4). The secret is `nuc_<id body>_<64 hex>`: the recognisable
// `nuc_` prefix lets secret scanners find leaked keys, the id body finds the row
// without an index on secrets, and only SHA-256 of the whole secret is stored.
// The secret is returned once, by create, and never again.
struct CreatedKey {
  Json key;
  std::string secret;
};

class ApiKeyService {
 public:
  explicit ApiKeyService(ServiceDependencies deps) : deps_(deps) {}

  // Input: name, role, scopes[], user_id (user keys) or integration: true, expires_at.
  CreatedKey create(const CallContext& ctx, const Json& input);
  WriteResult revoke(const CallContext& ctx, const std::string& key_id);
  std::vector<Json> list(const CallContext& ctx);

 private:
  ServiceDependencies deps_;
};

// The key id a secret claims to belong to ("key_…"), or empty when it is not shaped
// like a Nucleo secret.
std::string key_id_of_secret(const std::string& secret);

// The id a secret shaped `<prefix><id body>_<64 hex>` claims ("<id_prefix>_<id body>"),
// or empty: API keys (nuc_) and sessions (nss_) alike.
std::string id_of_secret(const std::string& secret, std::string_view prefix, std::string_view id_prefix);

}  // namespace nucleo::services
