#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct Authenticated {
  std::string tenant_id;  // from the credential only, never from the request (docs/architecture.md §3)
  Actor actor;
  std::shared_ptr<const Principal> principal;
};

// Recently authenticated credentials, so that a busy key is not looked up on every
// request (the lookup costs two transactions). Entries live `ttl` at most, and never past
// the key's own expiry: a key revoked, a user deactivated or a role or team changed in
// another process is seen within `ttl` on every node (ADR 0008). A ttl of zero turns
// the cache off. Thread-safe.
class CredentialCache {
 public:
  explicit CredentialCache(std::chrono::microseconds ttl, std::size_t capacity = 10000)
      : ttl_(ttl), capacity_(capacity) {}

  std::optional<Authenticated> find(const std::string& credential, Timestamp now) const;
  // `looked_up_at`: access_generation() read before the credential was looked up, so
  // a principal read before a change to users, teams or keys committed is not kept.
  void store(const std::string& credential, const Authenticated& who, std::optional<std::int64_t> key_expires_at,
             Timestamp now, std::uint64_t looked_up_at);
  void clear();

 private:
  struct Entry {
    Authenticated who;
    std::int64_t expires_at;  // µs since the epoch
    std::uint64_t generation;  // access_generation() when it was looked up
  };
  std::chrono::microseconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by SHA-256 of the secret + On-Behalf-Of
};

// Counts the committed changes of this process to records that decide what callers
// may do (EntityPolicy::defines_access: users, teams, keys). The one door bumps it
// after each such commit; a cached principal older than the count is not used, so a
// key revoked or a role changed through this node is honoured by its next request.
std::uint64_t access_generation();
void note_access_changed();

// Bearer API keys → who is calling. The key row is found by the id embedded in the
// secret (ADR 0006) on the worker role, since the tenant is not known yet.
class AuthService {
 public:
  explicit AuthService(ServiceDependencies deps, CredentialCache* cache = nullptr) : deps_(deps), cache_(cache) {}

  // Throws Error(unauthenticated) for a malformed, unknown, wrong, revoked or expired
  // secret, and Error(forbidden) when On-Behalf-Of is used by a non-integration key
  // or names no active user of the key's tenant.
  Authenticated authenticate(const std::string& secret, const std::string& on_behalf_of, Timestamp now);

  // A browser session's cookie (SignInService::sign_in) → its user, acting with their
  // own role; `csrf_hash` receives SHA-256 of the session's CSRF token. Never cached: a
  // sign-out counts from the next request, on every node. Throws Error(unauthenticated)
  // for a malformed, unknown, signed-out or expired session or an inactive user.
  Authenticated authenticate_session(const std::string& secret, Timestamp now, std::string& csrf_hash);

 private:
  Authenticated look_up(const std::string& secret_hash, const std::string& key_id, const std::string& on_behalf_of,
                        Timestamp now, std::optional<std::int64_t>& key_expires_at);

  ServiceDependencies deps_;
  CredentialCache* cache_;
};

}  // namespace nucleo::services
