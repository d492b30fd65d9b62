#pragma once

#include <memory>
#include <string>

#include "kernel/app/configuration.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/database.hpp"

namespace nucleo::app {

// The kernel's long-lived parts, opened from configuration: the request and worker
// pools, the validator registry and the service dependencies built on them.
// Used by `serve` and by the administrative commands alike.
class KernelRuntime {
 public:
  // Applies pending migrations first when store.migrate_on_start is true; otherwise
  // refuses to open a database whose schema is behind this build.
  KernelRuntime(const Configuration& config, std::size_t pool_size_override = 0);

  services::ServiceDependencies dependencies();
  store::Database& database() { return *database_; }
  const StoreSettings& store_settings() const { return store_settings_; }

 private:
  StoreSettings store_settings_;
  NormalisationSettings normalisation_;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<store::Database> worker_database_;  // same object as database_ on SQLite
  services::ValidatorRegistry validators_;
};

NormalisationSettings read_normalisation_settings(const Configuration& config);

}  // namespace nucleo::app
