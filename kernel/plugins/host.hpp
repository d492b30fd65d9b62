#pragma once

// The plugin host (docs/architecture.md §6): reads each
// configured plugin's manifest before loading any code, loads the library with
// Boost.DLL (RTLD_LOCAL | RTLD_NOW), checks the ABI and the descriptor against the
// manifest, loads in dependency order and calls init with the host table. A plugin
// that fails at any step is reported and skipped; the kernel keeps serving. Plugins are
// never unloaded while the kernel runs.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/prometheus_text.hpp"
#include "kernel/domain/value_schema.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/events/outbound_http.hpp"
#include "kernel/plugins/manifest.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/channel_delivery.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/plugin_record_service.hpp"
#include "kernel/services/record_service.hpp"
#include "nucleo/plugin_abi.h"

namespace nucleo::plugins {

// One plugins.<alias>.* block of the configuration.
struct PluginSetting {
  std::string alias;
  std::string file;                // plugin.json or its folder
  Json config = Json::object();    // plugins.<alias>.config.*
  std::string id;                  // plugins.<alias>.id: when set, the manifest must say the same
};

// What became of one configured plugin (log, GET /v1/plugins, audit event).
struct PluginStatus {
  std::string alias, file, id, version;
  bool loaded = false;
  std::string problem;  // why it is not loaded
};

struct RegisteredRoute {
  std::string plugin_id, method, path;
  std::int32_t auth;
  nucleo_route_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);  // releases what the handler returned
  std::optional<RouteDescription> description;  // from the manifest's "routes", when it has one
};

struct RegisteredSubscription {
  std::string plugin_id, pattern;
  nucleo_event_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
};

struct RegisteredJob {
  std::string plugin_id, name;  // name as the plugin registered it
  std::optional<events::Schedule> schedule;
  events::JobScope scope;
  nucleo_job_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
  std::string time_zone;  // "" UTC, "tenant", or an IANA name (register_job "time_zone")
  // The queue's name for it: "plugin:<id>:<name>".
  std::string queue_name() const { return "plugin:" + plugin_id + ":" + name; }
};

struct RegisteredChannel {
  std::string plugin_id;
  Json spec;  // {"name", "kinds", "config_schema"?}
  std::shared_ptr<const ValueSchema> config_schema;  // compiled from spec's, when it has one
  nucleo_send_fn send;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
};

struct RegisteredBriefingSection {
  std::string plugin_id, name, title;
  nucleo_briefing_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
};

struct RegisteredImporter {
  std::string plugin_id, name, title;
  std::vector<std::string> media_types;
  Json mapping;  // for an upload that brings none
  nucleo_import_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
};

struct RegisteredValidator {
  std::string plugin_id, entity_type;
  nucleo_validator_fn handler;
  void* user_data;
  void (*free_buffer)(nucleo_plugin_buffer);
};

// Counters and gauges plugins report (counter_add, gauge_set), shown on /metrics as
// nucleo_plugin_<name>{plugin="<id>",…}. Bounded: a plugin cannot grow it without limit.
class PluginMetrics {
 public:
  static constexpr std::size_t max_series_per_plugin = 1000;
  // Throws Error(validation) naming what is wrong with the name, labels or value.
  void add(const std::string& plugin_id, const std::string& name, const Json& labels, double value, bool is_counter);
  std::string render() const;  // Prometheus text format

 private:
  struct Series {
    bool is_counter;
    double value;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::map<MetricLabels, Series>> series_;  // name → labels → value
  std::map<std::string, std::size_t> series_count_;               // plugin id → series
};

class PluginHost {
 public:
  // The schema the channel of `plugin_id` declares for its accounts' config (null: none
  // declared, or no channel on this node).
  const ValueSchema* channel_config_schema(const std::string& plugin_id) const;
  // What the channel `plugin_id` registered on this node says of itself: its first kind
  // ("whatsapp", "email", "sms"; empty when it registered none) and its reply window
  // (spec "reply_window_hours": free text only that long after the contact wrote).
  services::ChannelTraits channel_traits(const std::string& plugin_id) const;
  // Without services (unit tests, CLI), call_service answers NUCLEO_UNAVAILABLE.
  // `outbound` guards http_request (throws Error naming a malformed allow-list entry).
  explicit PluginHost(Version kernel, std::optional<services::ServiceDependencies> services = std::nullopt,
                      events::OutboundSettings outbound = {});
  ~PluginHost();  // shuts loaded plugins down, last loaded first
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Before load: plugins' jobs go to `queue` (run on its workers, in `clock`'s time) and
  // enqueue_job writes there. Without it, register_job is accepted but nothing runs
  // (CLI, unit tests) and enqueue_job answers NUCLEO_UNAVAILABLE.
  void attach_jobs(events::JobQueue& queue, const Clock& clock);
  // Another database cluster's queue (ADR 0048) runs the loaded plugins' jobs and their
  // channel deliveries too: the jobs of a tenant placed on that cluster are queued there.
  // After load(), beside the queue attach_jobs() gave.
  void run_jobs_on(events::JobQueue& queue);
  // channels.resolve remembers an account found this long (0: looks it up every time;
  // ResolvedChannelAccounts says what staleness that allows).
  void remember_channel_accounts(std::chrono::microseconds ttl) { resolved_accounts_.set_ttl(ttl); }

  // Loads every setting it can; never throws for a plugin's fault.
  void load(const std::vector<PluginSetting>& settings);
  // Safe mode (`nucleo serve --safe-mode`): lists the settings as not loaded, `why`.
  void skip(const std::vector<PluginSetting>& settings, const std::string& why);
  bool safe_mode() const { return safe_mode_; }

  const std::vector<PluginStatus>& statuses() const { return statuses_; }
  const std::vector<RegisteredRoute>& routes() const { return routes_; }
  // The plugins' subscriptions as the dispatcher runs them: each handler is called with
  // the event's envelope, in the event's tenant, as the plugin (actor type "plugin",
  // no principal), and what it writes is caused by that event, one level deeper.
  std::vector<events::Subscriber> event_subscribers(const Clock& clock) const;
  const PluginMetrics& metrics() const { return metrics_; }
  // The record store of a loaded plugin (its resources' routes use it); nullopt when it
  // is not loaded or this host runs no services.
  std::optional<services::PluginRecordService> record_store(const std::string& plugin_id) const;
  // The manifest of a loaded plugin, or nullptr (not configured, or it failed to load).
  const Manifest* loaded_manifest(const std::string& plugin_id) const;
  // Runs a loaded plugin's job once, at once, on this thread, in `tenant_id`, as the plugin
  // (`nucleo demo --vertical` runs a pack's "demo" job so). The job's error; "" when done.
  std::string run_job_now(const std::string& plugin_id, const std::string& name, const std::string& tenant_id,
                          const Json& payload) const;
  // The kernel's clock (attach_jobs's), or the system's before one is attached.
  const Clock& clock() const;

  struct Loaded;  // a loaded plugin, as its host table sees it (host.cpp)

 private:
  // The job that sends queued channel messages, on `queue`.
  void add_channel_delivery(events::JobQueue& queue);
  struct Candidate;
  void load_one(Candidate& c);
  // Attribute schemas outlive a plugin that stops loading (docs/plugin-authoring.md,
  // "When a plugin is not loaded"): recorded at each load, enforced when it is not.
  void remember_schemas(const Manifest& m, const std::vector<std::pair<std::string, Json>>& schemas);
  void enforce_schemas_of_unloaded();
  // The consent purposes its manifest declares (migration 0032): known to every tenant,
  // and still known when the plugin stops loading (ledger entries name them).
  void remember_purposes(const Manifest& m);
  // Collections too (migration 0018): a version whose indexes changed re-indexes the
  // documents before it serves; whose personal data they are outlives the plugin.
  void record_collections(const Manifest& m, const std::map<std::string, services::CollectionSpec>& specs);
  std::optional<services::ChannelSendResult> send_on_channel(const std::string& plugin_id,
                                                             const services::CallContext& ctx,
                                                             const Json& request) const;

  Version kernel_;
  std::optional<services::ServiceDependencies> services_;
  events::OutboundHttp outbound_;
  events::JobQueue* jobs_ = nullptr;
  const Clock* jobs_clock_ = nullptr;
  PluginMetrics metrics_;
  bool safe_mode_ = false;
  std::vector<PluginStatus> statuses_;
  std::vector<RegisteredRoute> routes_;
  std::vector<RegisteredSubscription> subscriptions_;
  std::vector<RegisteredChannel> channels_;
  std::vector<std::unique_ptr<Loaded>> loaded_;
  mutable services::ResolvedChannelAccounts resolved_accounts_;
};

}  // namespace nucleo::plugins
