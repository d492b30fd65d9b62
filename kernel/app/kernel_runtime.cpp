#include "kernel/app/kernel_runtime.hpp"

#include "kernel/app/settings.hpp"

#include <soci/session.h>

#include "kernel/automation/cadences.hpp"
#include "kernel/automation/rules.hpp"
#include "kernel/automation/stage_gate.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/store/migrations.hpp"

namespace nucleo::app {
namespace {

// True when the schema is this build's (false: an old one, tolerated).
bool prepare_schema(const store::DatabaseUrl& owner_url, const StoreSettings& settings, bool tolerate_old_schema,
                    const std::function<void(const store::Migration&)>& on_applied) {
  soci::session owner;
  store::open_session(owner, owner_url);
  if (settings.migrate_on_start) {
    SystemClock clock;
    store::migrate(owner, owner_url.backend, clock, on_applied);
    return true;
  }
  auto status = store::schema_status(owner, owner_url.backend);
  if (status.is_current()) return true;
  if (tolerate_old_schema) return false;
  throw Error(ErrorCode::unavailable, "the database schema of " + owner_url.display + " is at version " + std::to_string(status.current_version) +
                                          " and this build needs " + std::to_string(status.latest_version) +
                                          ": run 'nucleo migrate'");
}

}  // namespace

NormalisationSettings read_normalisation_settings(const Configuration& config) {
  NormalisationSettings s;
  s.default_region = get_string(config, "normalise.default_region");
  if (!is_country_code(s.default_region))
    throw Error(ErrorCode::validation,
                "configuration key normalise.default_region must be an ISO 3166-1 alpha-2 code such as BR, got '" +
                    s.default_region + "'",
                {{"normalise.default_region", "expected a two-letter region code"}});
  return s;
}

namespace {

// http.public_url: scheme and authority (and a path prefix, when a proxy mounts Nucleo
// under one), without a trailing slash, query or fragment.
std::string read_public_url(const Configuration& config) {
  std::string url = get_string(config, "http.public_url");
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.empty()) return url;
  bool http = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  std::size_t host = url.find("://") + 3;
  if (!http || host >= url.size() || url.find_first_of(" <>\"?#\\\r\n\t") != std::string::npos)
    throw Error(ErrorCode::validation, "http.public_url must be an http(s) URL without query or fragment, not '" + url + "'",
                {{"http.public_url", "expected an http(s) URL like https://crm.example.com"}});
  return url;
}

// proposals.*: "sales:10, team_…:15" → {"sales": 1000, "team_…": 1500} (hundredths).
services::ProposalSettings read_proposal_settings(const Configuration& config) {
  services::ProposalSettings settings;
  settings.link_days = static_cast<int>(get_integer(config, "proposals.link_days", 1, 365));
  std::string list = get_string(config, "proposals.discount_limits");
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(',', start);
    std::string pair = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    pair.erase(0, pair.find_first_not_of(" \t"));
    pair.erase(pair.find_last_not_of(" \t") + 1);
    std::size_t colon = pair.find(':');
    std::int64_t percent = -1;
    if (colon != std::string::npos && colon > 0 && colon + 1 < pair.size() && pair.size() - colon <= 4 &&
        pair.find_first_not_of("0123456789", colon + 1) == std::string::npos)
      percent = std::stoll(pair.substr(colon + 1));
    if (!pair.empty() && (percent < 0 || percent > 100))
      throw Error(ErrorCode::validation, "proposals.discount_limits must be ROLE:PERCENT pairs (sales:10), not '" + pair + "'",
                  {{"proposals.discount_limits", "expected ROLE:PERCENT, PERCENT from 0 to 100"}});
    if (!pair.empty()) settings.discount_limits[pair.substr(0, colon)] = percent * 100;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return settings;
}

}  // namespace

KernelRuntime::KernelRuntime(const Configuration& config, std::size_t pool_size_override, bool tolerate_old_schema,
                             const std::function<void(const store::Migration&)>& on_applied)
    : store_settings_(read_store_settings(config)),
      normalisation_(read_normalisation_settings(config)),
      search_scan_rows_(static_cast<std::size_t>(get_integer(config, "limits.search_scan_rows", 1, 100000000))),
      public_url_(read_public_url(config)),
      privacy_{static_cast<int>(get_integer(config, "privacy.request_deadline_days", 1, 365)),
               static_cast<int>(get_integer(config, "privacy.report_link_hours", 1, 24 * 90)),
               static_cast<int>(get_integer(config, "privacy.retention_grace_days", 0, 365)),
               static_cast<std::size_t>(get_integer(config, "privacy.retention_max_per_run", 1, 10000000))},
      proposals_(read_proposal_settings(config)),
      sensitive_(services::SensitiveData::parse(get_string(config, "audit.sensitive_reads"))),
      secrets_(services::SecretBox::load_or_create(state_path(config, get_string(config, "secrets.key_file")),
                                                   &secrets_key_created_)) {
  automation::register_stage_gates(validators_);  // stage moves meet their stage's entry criteria
  automation::register_rule_checks(validators_);  // a rule is checked whole when saved
  automation::register_cadence_checks(validators_);  // and a cadence's steps
  sensitive_.consult(attribute_schemas_);         // plugins mark their attributes sensitive too
  bool schema_current = prepare_schema(store_settings_.owner_url, store_settings_, tolerate_old_schema, on_applied);
  for (const auto& cluster : store_settings_.clusters)
    schema_current = prepare_schema(cluster.owner_url, store_settings_, tolerate_old_schema, on_applied) && schema_current;
  std::size_t pool = pool_size_override ? pool_size_override : store_settings_.pool_size;
  database_ = std::make_unique<store::Database>(store_settings_.url, pool, store_settings_.lease_timeout);
  // SQLite has one role: a second pool on the same file would only add writers.
  if (store_settings_.url.backend == store::Backend::postgresql) {
    worker_database_ =
        std::make_unique<store::Database>(store_settings_.worker_url, pool, store_settings_.lease_timeout);
    worker_database_->announce_work_to(&work_signal_);
    work_channel_ = std::make_unique<store::PostgresWorkChannel>(store_settings_.listen_url, work_signal_,
                                                                 read_background_settings(config).notify_gap);
  }
  database_->announce_work_to(&work_signal_);
  if (!store_settings_.clusters.empty()) place_tenants(pool);
  if (!store_settings_.replicas.urls.empty()) {
    replicas_ = std::make_unique<store::ReplicaSet>(*database_, store_settings_.replicas);
    database_->read_from(replicas_.get());
  }
  // Before anything is sealed: every process on this database holds the same key.
  if (schema_current)
    services::bind_secrets_key(worker_database_ ? *worker_database_ : *database_, secrets_,
                               state_path(config, get_string(config, "secrets.key_file")), secrets_key_created_,
                               read_node_settings(config).id, SystemClock().now());
  audited_reads_ = std::make_unique<services::AuditedReads>(*database_);
}

// Tenants placed on other clusters (ADR 0048): both roles' databases route their
// transactions there. Each cluster's pools are a quarter of the home's: most tenants
// live at home until an operator moves them.
void KernelRuntime::place_tenants(std::size_t pool) {
  std::size_t cluster_pool = std::max<std::size_t>(2, pool / 4);
  placement_ = std::make_unique<store::TenantPlacement>(*worker_database_, store_settings_.placement_cache);
  for (const auto& cluster : store_settings_.clusters) {
    auto requests = std::make_unique<store::Database>(cluster.url, cluster_pool, store_settings_.lease_timeout);
    auto worker = std::make_unique<store::Database>(cluster.worker_url, cluster_pool, store_settings_.lease_timeout);
    requests->announce_work_to(&work_signal_);
    worker->announce_work_to(&work_signal_);
    placement_->add_cluster(cluster.name, std::move(requests), std::move(worker));
  }
  database_->place_tenants(placement_.get(), false);
  worker_database_->place_tenants(placement_.get(), true);
}

void KernelRuntime::listen_to_other_nodes() {
  if (work_channel_) work_channel_->listen();
}

services::ServiceDependencies KernelRuntime::dependencies() {
  return dependencies_on(*database_, worker_database_ ? *worker_database_ : *database_);
}

services::ServiceDependencies KernelRuntime::dependencies_on(store::Database& requests, store::Database& worker) {
  return {requests, worker, validators_, normalisation_, sensitive_, secrets_,
          attribute_schemas_, customer_extensions_, import_formats_, search_scan_rows_, audited_reads_.get(),
          public_url_, privacy_, proposals_};
}

}  // namespace nucleo::app
