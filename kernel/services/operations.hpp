#pragma once

#include <cstdint>

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Domain events written but not yet dispatched, across tenants (worker role). Until
// the dispatcher lands (issue 9) every outbox row counts.
std::int64_t outbox_backlog(ServiceDependencies& deps);

}  // namespace nucleo::services
