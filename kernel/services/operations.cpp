#include "kernel/services/operations.hpp"

#include "kernel/store/sql.hpp"

namespace nucleo::services {

std::map<std::string, std::int64_t> outbox_backlog(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) {
    std::map<std::string, std::int64_t> backlog;
    store::query(tx.session(),
                 "SELECT s.name, (SELECT COALESCE(MAX(seq), 0) FROM outbox) - s.last_seq FROM event_subscribers s", {},
                 [&](const store::Row& row) { backlog[store::required_text(row, 0)] = store::integer_at(row, 1).value_or(0); });
    return backlog;
  });
}

std::vector<FailingWork> failing_work(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) {
    std::vector<FailingWork> out;
    auto collect = [&](const std::string& kind, const std::string& sql) {
      store::query(tx.session(), sql, {}, [&](const store::Row& row) {
        out.push_back({kind, store::required_text(row, 0), store::required_text(row, 1), store::integer_at(row, 2).value_or(0)});
      });
    };
    collect("event",
            "SELECT subscriber, CASE WHEN dead_at IS NULL THEN 'failing' ELSE 'dead' END AS state, count(*)"
            " FROM event_failures GROUP BY subscriber, state ORDER BY subscriber, state");
    collect("job",
            "SELECT name, CASE WHEN dead_at IS NULL THEN 'failing' ELSE 'dead' END AS state, count(*)"
            " FROM jobs WHERE last_error IS NOT NULL GROUP BY name, state ORDER BY name, state");
    return out;
  });
}

std::vector<audit::PendingBacklog> audit_backlog(ServiceDependencies& deps) {
  return deps.worker_database.read("", [](store::Transaction& tx) { return audit::pending_backlog(tx.session()); });
}

}  // namespace nucleo::services
