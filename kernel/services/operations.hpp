#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernel/audit/audit_log.hpp"

#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// Domain events each subscriber has yet to read, across tenants (worker role): the
// outbox's last seq minus the subscriber's cursor (a rolled-back seq may count once).
// A subscription that is no longer loaded keeps its row, and its growing backlog shows it.
std::map<std::string, std::int64_t> outbox_backlog(ServiceDependencies& deps);

// Audit events recorded but not yet sequenced, per tenant (worker role).
std::vector<audit::PendingBacklog> audit_backlog(ServiceDependencies& deps);

}  // namespace nucleo::services
