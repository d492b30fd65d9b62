#pragma once

// Tenant placement (ADR 0048, docs/operations.md "More than one primary"): tenants can
// live on other PostgreSQL clusters than the home one (store.url). The home keeps the
// directory, tenant_placements (migration 0042); a tenant without a row lives at home.
//
// A Database told to place tenants (Database::place_tenants) sends every transaction of a
// tenant that lives elsewhere to that cluster's database of the same role, so services,
// row-level security, the one door and the audit trail work there exactly as at home.
// What a node knows of the directory is at most `cache_for` old; `nucleo tenant move`
// marks a tenant moving and waits longer than that before it copies, so no node still
// writes where the copy is taken from. A write to a moving tenant is refused (503).

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

class Database;

// clusters.<name>.url / .worker_url / .owner_url: one other PostgreSQL cluster.
struct ClusterUrls {
  std::string name;
  DatabaseUrl url, worker_url, owner_url;
};

// The name the directory gives the cluster of store.url.
inline const std::string home_cluster = "home";

class TenantPlacement {
 public:
  // `home_worker` reads the directory (one statement outside a transaction on a miss).
  TenantPlacement(Database& home_worker, std::chrono::milliseconds cache_for);
  ~TenantPlacement();
  TenantPlacement(const TenantPlacement&) = delete;
  TenantPlacement& operator=(const TenantPlacement&) = delete;

  // The cluster's request and worker databases (the placement owns them).
  void add_cluster(const std::string& name, std::unique_ptr<Database> requests, std::unique_ptr<Database> worker);

  // Where a transaction of `tenant_id` runs: the cluster's database of the asked role, or
  // nullptr for home. A write to a tenant being moved throws Error(unavailable).
  Database* route(const std::string& tenant_id, bool worker_role, bool writes);

  // Reads the tenant's row again on its next transaction (after this process moved it).
  void forget(const std::string& tenant_id);

  // The other clusters, by name: serve runs their background work, lookups that span
  // tenants (an API key) ask them in turn.
  struct Cluster {
    std::string name;
    std::unique_ptr<Database> requests, worker;
  };
  const std::vector<Cluster>& clusters() const { return clusters_; }
  std::chrono::milliseconds cache_for() const { return cache_for_; }

 private:
  struct Entry {
    std::string cluster;  // home_cluster or a configured name
    bool moving = false;
    std::chrono::steady_clock::time_point read_at;
  };
  Entry lookup(const std::string& tenant_id);

  Database& home_worker_;
  std::chrono::milliseconds cache_for_;
  std::vector<Cluster> clusters_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace nucleo::store
