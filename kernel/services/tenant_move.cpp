#include "kernel/services/tenant_move.hpp"

#include <soci/session.h>

#include <thread>

#include "kernel/audit/merkle.hpp"
#include "kernel/audit/recorder.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/connection_pool.hpp"
#include "kernel/store/migrations.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/store/tenant_copy.hpp"
#include "kernel/store/tenant_placement.hpp"

namespace nucleo::services {
namespace {

// Queues, not records: a move waits until they are empty for the tenant (audit events
// sequenced, domain events delivered) instead of copying them. The directory lives on
// the home cluster only.
bool copied(const std::string& table) {
  return table != "audit_pending" && table != "outbox" && table != "event_failures" && table != "tenant_placements";
}

struct Placement {
  std::string cluster = store::home_cluster;
  std::string state = "placed";
  std::optional<std::string> previous;
};

Placement placement_of(soci::session& home, const std::string& tenant_id) {
  bool exists = false;
  store::query(home, "SELECT 1 FROM tenants WHERE id = :p0", {tenant_id}, [&](const store::Row&) { exists = true; });
  if (!exists) throw Error(ErrorCode::not_found, "tenant " + tenant_id + " not found", {{"tenant", "not found"}});
  Placement p;
  store::query(home, "SELECT cluster, state, previous_cluster FROM tenant_placements WHERE tenant_id = :p0", {tenant_id},
               [&](const store::Row& r) {
                 p.cluster = store::required_text(r, 0);
                 p.state = store::required_text(r, 1);
                 p.previous = store::text_at(r, 2);
               });
  return p;
}

void set_placement(soci::session& home, const std::string& tenant_id, const Placement& p, Timestamp now) {
  store::execute(home,
                 "INSERT INTO tenant_placements (tenant_id, cluster, state, previous_cluster, updated_at)"
                 " VALUES (:p0, :p1, :p2, :p3, :p4) ON CONFLICT (tenant_id) DO UPDATE SET cluster = excluded.cluster,"
                 " state = excluded.state, previous_cluster = excluded.previous_cluster, updated_at = excluded.updated_at",
                 {tenant_id, p.cluster, p.state, p.previous ? store::SqlValue{*p.previous} : store::SqlValue{},
                  now.micros});
}

// Marks the tenant moving only if it is still placed as `was` says: of two moves started
// at once, one marks it and the other is refused instead of copying beside it.
void mark_moving(soci::session& home, const std::string& tenant_id, const Placement& was, Timestamp now) {
  std::int64_t marked = store::execute(
      home,
      "INSERT INTO tenant_placements (tenant_id, cluster, state, updated_at) VALUES (:p0, :p1, 'moving', :p2)"
      " ON CONFLICT (tenant_id) DO UPDATE SET state = 'moving', updated_at = excluded.updated_at"
      " WHERE tenant_placements.state = 'placed' AND tenant_placements.cluster = excluded.cluster"
      " AND tenant_placements.previous_cluster IS NULL",
      {tenant_id, was.cluster, now.micros});
  if (marked != 1)
    throw Error(ErrorCode::conflict, "another move of tenant " + tenant_id + " is under way", {{"tenant", "moving"}});
}

std::unique_ptr<soci::session> open_owner(const ClusterOwner& cluster) {
  auto session = std::make_unique<soci::session>();
  try {
    store::open_session(*session, cluster.owner_url);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::unavailable, "cannot connect to cluster '" + cluster.name + "' (" +
                                            cluster.owner_url.display + "): " + e.what());
  }
  return session;
}

std::int64_t count_of(soci::session& s, const std::string& sql, const std::string& tenant_id) {
  std::int64_t n = 0;
  store::query(s, sql, {tenant_id}, [&](const store::Row& r) { n = store::required_integer(r, 0); });
  return n;
}

// What the tenant's background work still has to do where it lives: audit events to
// sequence, domain events to deliver to every subscriber, imports to run.
struct QueuedWork {
  std::int64_t audit = 0, events = 0, imports = 0;
  bool any() const { return audit || events || imports; }
  std::string text() const {
    return std::to_string(audit) + " audit events to sequence, " + std::to_string(events) +
           " domain events to deliver and " + std::to_string(imports) + " imports to finish";
  }
};

QueuedWork queued_work(soci::session& s, const std::string& tenant_id) {
  return {count_of(s, "SELECT count(*) FROM audit_pending WHERE tenant_id = :p0", tenant_id),
          count_of(s,
                   "SELECT count(*) FROM outbox WHERE tenant_id = :p0 AND seq > (SELECT COALESCE(MIN(last_seq),"
                   " (SELECT COALESCE(MAX(seq), 0) FROM outbox)) FROM event_subscribers)",
                   tenant_id),
          count_of(s, "SELECT count(*) FROM imports WHERE tenant_id = :p0 AND status IN ('queued', 'running')",
                   tenant_id)};
}

// The old copy runs nothing while it is kept: its queued jobs go (the copy has them) and,
// away from home, its tenant row is archived, so that cluster's queue schedules nothing
// for it. The home keeps the row unarchived for its directory; its queues leave tenants
// placed elsewhere alone (JobQueue::sync_recurring).
void quiet_old_copy(soci::session& old, const std::string& cluster, const std::string& tenant_id, Timestamp now) {
  store::execute(old, "DELETE FROM jobs WHERE tenant_id = :p0", {tenant_id});
  if (cluster != store::home_cluster)
    store::execute(old, "UPDATE tenants SET archived_at = :p0 WHERE id = :p1", {now.micros, tenant_id});
}

struct AuditHead {
  std::uint64_t size = 0;
  std::string root = audit::to_hex(audit::empty_tree_root());
  bool operator==(const AuditHead&) const = default;
};

AuditHead audit_head(soci::session& s, const std::string& tenant_id) {
  AuditHead head;
  store::query(s, "SELECT size, root FROM audit_tree_heads WHERE tenant_id = :p0", {tenant_id},
               [&](const store::Row& r) {
                 head.size = static_cast<std::uint64_t>(store::required_integer(r, 0));
                 head.root = store::required_text(r, 1);
               });
  return head;
}

// The root the copied leaves make, hashed again from the rows themselves (not the stored
// tree nodes): what `nucleo audit verify` of an export of this cluster would find.
AuditHead root_of_leaves(soci::session& s, const std::string& tenant_id) {
  audit::MerkleFrontier tree;
  std::int64_t expected_seq = 0;
  bool gap = false;
  store::query(s, "SELECT seq, leaf_hash FROM audit_log WHERE tenant_id = :p0 ORDER BY seq", {tenant_id},
               [&](const store::Row& r) {
                 if (store::required_integer(r, 0) != expected_seq++) gap = true;
                 auto hash = audit::hash_from_hex(store::required_text(r, 1));
                 if (!hash) gap = true;
                 else tree.push(*hash);
               });
  if (gap) return AuditHead{0, "a gap or an unreadable leaf hash in the copied audit log"};
  return AuditHead{tree.size(), audit::to_hex(tree.root())};
}

std::string schema_of(soci::session& s) {
  std::string version;
  store::query(s, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {},
               [&](const store::Row& r) { version = std::to_string(store::required_integer(r, 0)); });
  return version;
}

void fail_verification(const std::string& what) {
  throw Error(ErrorCode::conflict, "the copy does not match its source, nothing was switched: " + what,
              {{"verification", what}});
}

void record(ServiceDependencies& deps, const CallContext& ctx, const std::string& tenant_id, Change change) {
  if (auto* placement = deps.worker_database.placement()) placement->forget(tenant_id);
  deps.worker_database.write(tenant_id, [&](store::Transaction& tx) {
    CallContext in_tenant = ctx;
    in_tenant.tenant_id = tenant_id;
    commit_change(tx, in_tenant, change);
  });
}

}  // namespace

TenantMove::TenantMove(ServiceDependencies deps, std::vector<ClusterOwner> clusters, std::chrono::milliseconds settle,
                       Progress progress)
    : deps_(deps), clusters_(std::move(clusters)), settle_(settle), progress_(std::move(progress)) {}

const ClusterOwner& TenantMove::cluster(const std::string& name) const {
  for (const auto& c : clusters_)
    if (c.name == name) return c;
  std::string known;
  for (const auto& c : clusters_) known += (known.empty() ? "" : ", ") + c.name;
  throw Error(ErrorCode::validation, "unknown cluster '" + name + "': configured are " + known +
                                         " (clusters.<name>.url in docs/configuration.md)",
              {{"to", "unknown cluster"}});
}

TenantMoveReport TenantMove::move(const CallContext& ctx, const std::string& tenant_id, const std::string& to,
                                  std::chrono::seconds drain) {
  auto home = open_owner(cluster(store::home_cluster));
  Placement was = placement_of(*home, tenant_id);
  const ClusterOwner& target_cluster = cluster(to);
  if (was.state == "moving")
    throw Error(ErrorCode::conflict, "a move of tenant " + tenant_id + " is under way or did not finish; if its process " +
                                         "is gone, `nucleo tenant move --tenant " + tenant_id +
                                         " --abort` makes it writable where it was");
  if (was.previous)
    throw Error(ErrorCode::conflict, "tenant " + tenant_id + "'s old copy on cluster '" + *was.previous +
                                         "' is still kept: `nucleo tenant move --tenant " + tenant_id +
                                         " --confirm` removes it before another move");
  if (was.cluster == to)
    throw Error(ErrorCode::validation, "tenant " + tenant_id + " already lives on cluster '" + to + "'",
                {{"to", "is where the tenant lives"}});
  auto source = open_owner(cluster(was.cluster));
  auto target = open_owner(target_cluster);
  if (schema_of(*source) != schema_of(*target))
    throw Error(ErrorCode::conflict, "the clusters' schemas differ (" + schema_of(*source) + " on '" + was.cluster +
                                         "', " + schema_of(*target) + " on '" + to + "'): run `nucleo migrate` on both");

  TenantMoveReport report{tenant_id, was.cluster, to, {}, 0, "", 0};
  mark_moving(*home, tenant_id, was, ctx.now());
  try {
    progress_("tenant " + tenant_id + " is moving: its writes answer 503; waiting " +
              std::to_string(settle_.count()) + " ms for every node to see it");
    std::this_thread::sleep_for(settle_);
    auto deadline = std::chrono::steady_clock::now() + drain;
    for (auto queued = queued_work(*source, tenant_id); queued.any(); queued = queued_work(*source, tenant_id)) {
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(ErrorCode::unavailable, "still " + queued.text() +
                                                " after the wait: is a node with the audit, events and imports roles "
                                                "running for cluster '" + was.cluster + "'? (--wait SECONDS waits longer)");
      progress_("waiting: " + queued.text());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }

    *source << "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    *target << "BEGIN";
    for (const auto& table : store::tenant_tables(*source)) {
      if (!copied(table)) continue;
      if (table == "tenants" && to == store::home_cluster) {  // the home keeps every tenant's row
        store::refresh_tenant_row(*source, *target, tenant_id);
        report.rows.push_back({table, 1});
        continue;
      }
      if (std::int64_t there = store::tenant_rows(*target, table, tenant_id))
        throw Error(ErrorCode::conflict, "cluster '" + to + "' already holds " + std::to_string(there) + " rows of " +
                                             table + " for tenant " + tenant_id +
                                             " (a copy an earlier move left?); nothing was switched");
      report.rows.push_back({table, store::copy_tenant_rows(*source, *target, table, tenant_id)});
    }
    progress_("copied " + std::to_string(report.rows.size()) + " tables; verifying");
    for (const auto& [table, rows] : report.rows)
      if (std::int64_t there = store::tenant_rows(*target, table, tenant_id); there != rows)
        fail_verification(table + ": " + std::to_string(rows) + " rows copied, " + std::to_string(there) + " on the target");
    AuditHead source_head = audit_head(*source, tenant_id);
    if (audit_head(*target, tenant_id) != source_head) fail_verification("the audit tree heads differ");
    if (root_of_leaves(*target, tenant_id) != source_head)
      fail_verification("the copied audit leaves do not make the source's root " + source_head.root);
    *source << "COMMIT";
    // Nothing may have been written since the copy's snapshot (a transaction a node began
    // before it saw the tenant moving): read the source again, outside that snapshot.
    for (const auto& [table, rows] : report.rows)
      if (store::tenant_rows(*source, table, tenant_id) != rows)
        fail_verification(table + " changed on the source while it was copied; try again");
    if (audit_head(*source, tenant_id) != source_head || queued_work(*source, tenant_id).audit)
      fail_verification("the audit log grew on the source while it was copied; try again");
    *target << "COMMIT";
    quiet_old_copy(*source, was.cluster, tenant_id, ctx.now());
    report.audit_size = source_head.size;
    report.audit_root = source_head.root;
    report.failed_deliveries_left =
        count_of(*source, "SELECT count(*) FROM event_failures WHERE tenant_id = :p0", tenant_id);
  } catch (...) {
    try {
      *target << "ROLLBACK";
    } catch (...) {
    }
    set_placement(*home, tenant_id, was, ctx.now());
    throw;
  }
  set_placement(*home, tenant_id, Placement{to, "placed", was.cluster}, ctx.now());
  record(deps_, ctx, tenant_id,
         {"tenant.moved", "tenant", tenant_id,
          {{"cluster", {{"from", was.cluster}, {"to", to}}},
           {"audit", {{"size", report.audit_size}, {"root", report.audit_root}}}},
          {{"id", tenant_id}, {"cluster", to}}});
  return report;
}

TenantMoveReport TenantMove::confirm(const CallContext& ctx, const std::string& tenant_id) {
  auto home = open_owner(cluster(store::home_cluster));
  Placement now = placement_of(*home, tenant_id);
  if (!now.previous || now.state != "placed")
    throw Error(ErrorCode::conflict, "tenant " + tenant_id + " has no old copy to remove", {{"tenant", "no old copy"}});
  auto old = open_owner(cluster(*now.previous));
  TenantMoveReport report{tenant_id, *now.previous, now.cluster, {}, 0, "", 0};
  auto tables = store::tenant_tables(*old);
  *old << "BEGIN";
  try {
    for (auto table = tables.rbegin(); table != tables.rend(); ++table) {
      if (*table == "tenant_placements" || (*table == "tenants" && *now.previous == store::home_cluster)) continue;
      report.rows.push_back({*table, store::delete_tenant_rows(*old, *table, tenant_id)});
    }
    *old << "COMMIT";
  } catch (...) {
    try {
      *old << "ROLLBACK";
    } catch (...) {
    }
    throw;
  }
  set_placement(*home, tenant_id, Placement{now.cluster, "placed", std::nullopt}, ctx.now());
  std::int64_t removed = 0;
  for (const auto& [table, rows] : report.rows) removed += rows;
  record(deps_, ctx, tenant_id,
         {"tenant.old_copy_removed", "tenant", tenant_id, {{"cluster", *now.previous}, {"rows", removed}},
          {{"id", tenant_id}, {"cluster", now.cluster}}});
  return report;
}

void TenantMove::abort(const CallContext& ctx, const std::string& tenant_id) {
  auto home = open_owner(cluster(store::home_cluster));
  Placement now = placement_of(*home, tenant_id);
  if (now.state != "moving")
    throw Error(ErrorCode::conflict, "tenant " + tenant_id + " is not being moved", {{"tenant", "not moving"}});
  now.state = "placed";
  set_placement(*home, tenant_id, now, ctx.now());
}

}  // namespace nucleo::services
