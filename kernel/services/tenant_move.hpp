#pragma once

// `nucleo tenant move` (ADR 0048, docs/operations.md "Moving a tenant"): a tenant's rows
// from the PostgreSQL cluster it lives on to another, verified, then the directory
// switched; the old copy stays until the move is confirmed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/services/record_service.hpp"
#include "kernel/store/database_url.hpp"

namespace nucleo::services {

// A cluster the move may read or write, by the schema owner (RLS does not filter it).
struct ClusterOwner {
  std::string name;  // store::home_cluster for store.url's cluster
  store::DatabaseUrl owner_url;
};

struct TenantMoveReport {
  std::string tenant_id, from, to;
  std::vector<std::pair<std::string, std::int64_t>> rows;  // table → rows copied (or deleted)
  std::uint64_t audit_size = 0;
  std::string audit_root;  // hex; the same on both sides
  std::int64_t failed_deliveries_left = 0;  // event failures that stay with the old copy
};

class TenantMove {
 public:
  using Progress = std::function<void(const std::string&)>;
  // `clusters` includes the home one. `settle`: how long nodes may still hold an old view
  // of the directory (twice store.placement_cache_ms, and some).
  TenantMove(ServiceDependencies deps, std::vector<ClusterOwner> clusters, std::chrono::milliseconds settle,
             Progress progress);

  // Marks the tenant moving (its writes answer 503), waits `settle` and until its audit
  // events are sequenced and its domain events delivered (at most `drain`), copies its
  // rows in one transaction on the target, verifies the row counts of every table and
  // the audit log's size and root on both sides, then switches the directory. A failure
  // switches nothing and leaves the tenant where it was, writable. Audited
  // (tenant.moved) on the new cluster.
  TenantMoveReport move(const CallContext& ctx, const std::string& tenant_id, const std::string& to,
                        std::chrono::seconds drain);
  // Deletes the old copy a move kept (audited: tenant.old_copy_removed).
  TenantMoveReport confirm(const CallContext& ctx, const std::string& tenant_id);
  // Ends a move that did not finish (its process was stopped): the tenant is writable
  // where it was. Rows a stopped move committed on the target stay; a later move says so.
  void abort(const CallContext& ctx, const std::string& tenant_id);

 private:
  const ClusterOwner& cluster(const std::string& name) const;

  ServiceDependencies deps_;
  std::vector<ClusterOwner> clusters_;
  std::chrono::milliseconds settle_;
  Progress progress_;
};

}  // namespace nucleo::services
