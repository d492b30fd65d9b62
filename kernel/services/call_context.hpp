#pragma once

#include <memory>
#include <string>

#include "kernel/domain/actor.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/principal.hpp"

namespace nucleo::services {

// Who is calling, for which tenant, and why (DESIGN §1). Every service takes one; it
// is what the audit event records. The clock is injectable so tests travel in time.
struct CallContext {
  std::string tenant_id;
  Actor actor;
  std::string request_id;
  std::string source_ip;
  std::string reason;
  const Clock* clock = nullptr;                // never null in a real call
  std::shared_ptr<const Principal> principal;  // null: unrestricted (CLI, system work)

  Timestamp now() const { return clock->now(); }
};

}  // namespace nucleo::services
