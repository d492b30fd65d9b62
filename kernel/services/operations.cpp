#include "kernel/services/operations.hpp"

#include "kernel/store/sql.hpp"

namespace nucleo::services {

std::map<std::string, std::int64_t> outbox_backlog(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) {
    std::map<std::string, std::int64_t> backlog;
    store::query(tx.session(),
                 "SELECT s.name, (SELECT COALESCE(MAX(seq), 0) FROM outbox) - s.last_seq FROM event_subscribers s", {},
                 [&](const soci::row& row) { backlog[*store::text_at(row, 0)] = store::integer_at(row, 1).value_or(0); });
    return backlog;
  });
}

std::vector<audit::PendingBacklog> audit_backlog(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) { return audit::pending_backlog(tx); });
}

}  // namespace nucleo::services
