#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "kernel/app/configuration.hpp"
#include "kernel/audit/audit_log.hpp"
#include "kernel/automation/rules.hpp"
#include "kernel/automation/sales_jobs.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/http/server.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/store/database_url.hpp"
#include "kernel/store/replica_set.hpp"
#include "kernel/store/tenant_placement.hpp"

namespace nucleo::app {

// The store.* keys, parsed and checked.
struct StoreSettings {
  store::DatabaseUrl url;         // request traffic (PostgreSQL: nucleo_app)
  store::DatabaseUrl worker_url;  // background work (PostgreSQL: nucleo_worker)
  store::DatabaseUrl owner_url;   // migrations (PostgreSQL: nucleo_owner)
  // PostgreSQL: the wake-up channel's own connections (LISTEN/NOTIFY), straight to the
  // server — never through a transaction pooler, where LISTEN cannot work.
  store::DatabaseUrl listen_url;
  // PostgreSQL streaming replicas for reads that may lag (ADR 0048); empty: none.
  store::ReplicaSettings replicas;
  // Other PostgreSQL clusters tenants may be placed on (clusters.<name>.*, ADR 0048) and
  // how old a node's view of the directory may be (store.placement_cache_ms).
  std::vector<store::ClusterUrls> clusters;
  std::chrono::milliseconds placement_cache{1000};
  std::size_t pool_size = 8;
  std::chrono::milliseconds lease_timeout{2000};
  bool migrate_on_start = true;
};

// The audit.* keys.
struct AuditSettings {
  // Sequencer passes woken by recorded events start at least this far apart (a batch).
  std::chrono::milliseconds sequence_interval{50};
  std::size_t sequence_batch = 2000;
  // A tenant whose oldest pending event is older than this makes /readyz "degraded".
  std::chrono::seconds stall_after{60};
  std::string signing_key_file;  // empty: no checkpoints are signed
  audit::CheckpointPolicy checkpoints;
};

// The events.* keys.
struct EventSettings {
  std::chrono::milliseconds interval{100};  // dispatcher passes woken by new events, at least this far apart
  events::DispatchSettings dispatch;
};

// The background.* keys: how the background loops learn of work (ADR 0037).
struct BackgroundSettings {
  // Each loop also looks for work on its own this often: what a lost notification, or a
  // write by another process on SQLite, left without a wake-up.
  std::chrono::milliseconds safety_poll{10000};
  // PostgreSQL: a node tells the others of new work at most once per gap.
  std::chrono::milliseconds notify_gap{20};
};
BackgroundSettings read_background_settings(const Configuration& config);

// The imports.* keys.
struct ImportRunnerSettings {
  bool enabled = true;
  std::chrono::milliseconds stale_after{30000};
};
ImportRunnerSettings read_import_runner_settings(const Configuration& config);

// The node.* keys: who this process is among the nodes sharing a database, and which
// background work it takes part in (docs/operations.md).
struct NodeSettings {
  std::string id;  // in leases, logs, /readyz and /metrics: node.id, else host name:pid
  // Background roles: "audit" (sequencer), "events" (dispatcher), "jobs", "imports".
  // A node without any only serves HTTP; every role must run on at least one node.
  std::vector<std::string> roles;
  bool runs(const std::string& role) const;
};
NodeSettings read_node_settings(const Configuration& config);

struct JobWorkerSettings {
  std::size_t workers = 4;
  events::JobSettings queue;
};

// Where relative paths of the state Nucleo keeps on disk live — store.url's SQLite file
// and secrets.key_file: `state_dir` when set, else the folder above the executable's
// (build/bin/nucleo → build/, /usr/local/bin/nucleo → /usr/local/), so every command
// finds the same database and key from any working directory. Absolute paths stay.
std::string state_path(const Configuration& config, const std::string& path);

StoreSettings read_store_settings(const Configuration& config);
EventSettings read_event_settings(const Configuration& config);
JobWorkerSettings read_job_settings(const Configuration& config);
automation::SalesJobSettings read_sales_job_settings(const Configuration& config);
// automation.max_depth, below events.max_depth (deeper events reach no subscriber at all).
automation::AutomationSettings read_automation_settings(const Configuration& config);
events::OutboundSettings read_outbound_settings(const Configuration& config);
AuditSettings read_audit_settings(const Configuration& config);
// The HTTP worker threads for `http.max_threads`: as configured, or for 0 twice `cores`,
// at least 4.
int http_workers(long configured, unsigned cores);
http::ServerSettings read_http_settings(const Configuration& config);
http::ApiSettings read_api_settings(const Configuration& config);
// One setting per plugins.<alias> block: .id, .file and the .config.* keys (dotted
// names below config keep their dots: plugins.a.config.retry.max → "retry.max").
std::vector<plugins::PluginSetting> read_plugin_settings(const Configuration& config);

}  // namespace nucleo::app
