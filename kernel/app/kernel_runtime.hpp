#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kernel/app/configuration.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/services/audited_reads.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"
#include "kernel/store/postgres_work_channel.hpp"
#include "kernel/store/tenant_placement.hpp"
#include "kernel/store/work_signal.hpp"

namespace nucleo::app {

// The kernel's long-lived parts, opened from configuration: the request and worker
// pools, the validator registry and the service dependencies built on them.
// Used by `serve` and by the administrative commands alike.
class KernelRuntime {
 public:
  // Applies pending migrations first when store.migrate_on_start is true (reporting
  // each to `on_applied`). Otherwise a schema behind this build is refused, unless
  // `tolerate_old_schema` (serve: /readyz reports it instead).
  KernelRuntime(const Configuration& config, std::size_t pool_size_override = 0, bool tolerate_old_schema = false,
                const std::function<void(const store::Migration&)>& on_applied = {});

  services::ServiceDependencies dependencies();
  // The same over another cluster's databases (serve: that cluster's background work).
  services::ServiceDependencies dependencies_on(store::Database& requests, store::Database& worker);
  store::Database& database() { return *database_; }
  // Rung by every write that commits background work (ADR 0037); on PostgreSQL also
  // passed on to other nodes. listen_to_other_nodes() (serve) raises theirs here too.
  store::WorkSignal& work_signal() { return work_signal_; }
  void listen_to_other_nodes();
  // The read replicas (serve checks them every store.replica_check_ms); nullptr: none.
  store::ReplicaSet* replicas() { return replicas_.get(); }
  const StoreSettings& store_settings() const { return store_settings_; }
  // The other clusters tenants live on (clusters.<name>.*); nullptr: none configured.
  store::TenantPlacement* placement() { return placement_.get(); }
  // True when secrets.key_file did not exist and this start created it.
  bool secrets_key_created() const { return secrets_key_created_; }

 private:
  void place_tenants(std::size_t pool);

  StoreSettings store_settings_;
  NormalisationSettings normalisation_;
  std::size_t search_scan_rows_;  // limits.search_scan_rows
  std::string public_url_;        // http.public_url
  services::PrivacySettings privacy_;  // privacy.*
  services::ProposalSettings proposals_;  // proposals.*
  store::WorkSignal work_signal_;  // before what rings it: outlives the databases
  std::unique_ptr<store::PostgresWorkChannel> work_channel_;  // PostgreSQL only
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<store::ReplicaSet> replicas_;  // store.replica_urls; none: reads stay on database_
  std::unique_ptr<store::Database> worker_database_;  // same object as database_ on SQLite
  std::unique_ptr<store::TenantPlacement> placement_;  // clusters.*; gone before the databases that route through it

  std::unique_ptr<services::AuditedReads> audited_reads_;
  services::ValidatorRegistry validators_;
  services::AttributeSchemas attribute_schemas_;
  services::CustomerExtensions customer_extensions_;
  services::ImportFormats import_formats_;
  services::SensitiveData sensitive_;
  bool secrets_key_created_ = false;  // before secrets_: set while secrets_ is built
  services::SecretBox secrets_;
};

NormalisationSettings read_normalisation_settings(const Configuration& config);

}  // namespace nucleo::app
