#pragma once

#include <memory>
#include <string>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct Authenticated {
  std::string tenant_id;  // from the credential only, never from the request (DESIGN §3)
  Actor actor;
  std::shared_ptr<const Principal> principal;
};

// Bearer API keys → who is calling. The key row is found by the id embedded in the
// secret (ADR 0006) on the worker role, since the tenant is not known yet.
class AuthService {
 public:
  explicit AuthService(ServiceDependencies deps) : deps_(deps) {}

  // Throws Error(unauthenticated) for a malformed, unknown, wrong, revoked or expired
  // secret, and Error(forbidden) when On-Behalf-Of is used by a non-integration key
  // or names no active user of the key's tenant.
  Authenticated authenticate(const std::string& secret, const std::string& on_behalf_of, Timestamp now);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
