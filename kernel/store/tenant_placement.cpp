#include "kernel/store/tenant_placement.hpp"

#include "kernel/domain/error.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::store {

TenantPlacement::TenantPlacement(Database& home_worker, std::chrono::milliseconds cache_for)
    : home_worker_(home_worker), cache_for_(cache_for) {}

TenantPlacement::~TenantPlacement() = default;

void TenantPlacement::add_cluster(const std::string& name, std::unique_ptr<Database> requests,
                                  std::unique_ptr<Database> worker) {
  clusters_.push_back({name, std::move(requests), std::move(worker)});
}

TenantPlacement::Entry TenantPlacement::lookup(const std::string& tenant_id) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto found = cache_.find(tenant_id);
    if (found != cache_.end() && now - found->second.read_at < cache_for_) return found->second;
  }
  Entry entry{home_cluster, false, now};
  home_worker_.read_one_statement([&](soci::session& session) {
    query(session, "SELECT cluster, state FROM tenant_placements WHERE tenant_id = :p0", {tenant_id},
          [&](const Row& row) {
            entry.cluster = required_text(row, 0);
            entry.moving = required_text(row, 1) == "moving";
          });
  });
  std::lock_guard lock(mutex_);
  cache_[tenant_id] = entry;
  return entry;
}

void TenantPlacement::forget(const std::string& tenant_id) {
  std::lock_guard lock(mutex_);
  cache_.erase(tenant_id);
}

Database* TenantPlacement::route(const std::string& tenant_id, bool worker_role, bool writes) {
  Entry entry = lookup(tenant_id);
  if (writes && entry.moving)
    throw Error(ErrorCode::unavailable,
                "tenant " + tenant_id + " is being moved to another database cluster: its writes resume when the move ends");
  if (entry.cluster == home_cluster) return nullptr;
  for (auto& cluster : clusters_)
    if (cluster.name == entry.cluster) return worker_role ? cluster.worker.get() : cluster.requests.get();
  throw Error(ErrorCode::unavailable, "tenant " + tenant_id + " lives on database cluster '" + entry.cluster +
                                          "', which this node's configuration does not name (clusters." +
                                          entry.cluster + ".url)");
}

}  // namespace nucleo::store

namespace nucleo::store {

Database* Database::placed_elsewhere(const std::string& tenant_id, TxMode mode) {
  return placement_->route(tenant_id, worker_role_, mode == TxMode::write);
}

}  // namespace nucleo::store
