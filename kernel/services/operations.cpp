#include "kernel/services/operations.hpp"

#include "kernel/store/sql.hpp"

namespace nucleo::services {

std::int64_t outbox_backlog(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) {
    std::int64_t n = 0;
    store::query(tx.session(), "SELECT count(*) FROM outbox", {},
                 [&](const soci::row& row) { n = store::integer_at(row, 0).value_or(0); });
    return n;
  });
}

}  // namespace nucleo::services
