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

// Work failing now, across tenants (worker role): event deliveries per subscriber and
// jobs per job name, each "failing" (will be tried again) or "dead".
struct FailingWork {
  std::string kind;   // event | job
  std::string name;   // the subscriber, or the job ("plugin:<id>:<job>")
  std::string state;  // failing | dead
  std::int64_t count = 0;
};
std::vector<FailingWork> failing_work(ServiceDependencies& deps);

// Audit events recorded but not yet sequenced, per tenant (worker role).
std::vector<audit::PendingBacklog> audit_backlog(ServiceDependencies& deps);

}  // namespace nucleo::services
