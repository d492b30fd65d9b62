#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <soci/session.h>


#include <atomic>
#include <thread>
#include <csignal>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

#include "kernel/automation/cadences.hpp"
#include "kernel/automation/checklists.hpp"
#include "kernel/automation/rule_files.hpp"
#include "kernel/automation/rule_scan.hpp"
#include "kernel/app/background_loop.hpp"
#include "kernel/services/privacy_requests.hpp"
#include "kernel/services/retention.hpp"
#include "kernel/services/import_jobs.hpp"
#include "kernel/app/audit_work.hpp"
#include "kernel/app/commands.hpp"
#include "kernel/app/configuration.hpp"
#include "kernel/app/kernel_runtime.hpp"
#include "kernel/app/settings.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/http/server.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/services/operations.hpp"
#include "kernel/services/plugin_service.hpp"
#include "kernel/services/webhook_delivery.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"
#include "kernel/store/replica_set.hpp"

namespace nucleo::app {
namespace {

Poco::Logger& setup_logging(const Configuration& config) {
  Poco::AutoPtr<Poco::PatternFormatter> format = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
  Poco::AutoPtr<Poco::FormattingChannel> channel =
      new Poco::FormattingChannel(format, new Poco::ConsoleChannel(std::cerr));
  Poco::Logger::root().setChannel(channel);
  std::string level = get_string(config, "log.level");
  try {
    Poco::Logger::root().setLevel(level);
  } catch (const Poco::Exception&) {
    throw Error(ErrorCode::validation, "configuration key log.level: unknown level '" + level + "'",
                {{"log.level", "expected fatal, critical, error, warning, notice, information, debug or trace"}});
  }
  return Poco::Logger::get("nucleo");
}

// Tenants whose oldest pending audit event has waited longer than `stall_after`, in
// one line for /readyz; empty when none has.
std::string stalled_audit_tenants(services::ServiceDependencies& deps, std::chrono::seconds stall_after,
                                  Timestamp now) {
  std::string detail;
  std::size_t stalled = 0;
  for (const auto& b : services::audit_backlog(deps)) {
    std::int64_t age_s = (now.micros - b.oldest_recorded_at.micros) / 1'000'000;
    if (age_s < stall_after.count()) continue;
    if (++stalled <= 3)
      detail += std::string(detail.empty() ? "" : "; ") + b.tenant_id + ": " + std::to_string(b.events) +
                " events pending, the oldest " + std::to_string(age_s) + " s old";
  }
  if (stalled > 3) detail += "; and " + std::to_string(stalled - 3) + " more tenants";
  return detail.empty() ? detail : "audit sequencing stalled (" + detail + ")";
}

http::ReadinessCheck readiness_of(store::Database& db, services::ServiceDependencies deps,
                                  std::chrono::seconds stall_after, const Clock& clock) {
  return [&db, deps, stall_after, &clock]() mutable -> http::Readiness {
    auto status = [&db] {
      auto lease = db.lease();
      return store::schema_status(lease.session(), db.backend());
    }();
    if (!status.is_current())
      return {false, "database schema at version " + std::to_string(status.current_version) + ", this build needs " +
                         std::to_string(status.latest_version) + ": run 'nucleo migrate'"};
    std::string schema = "schema version " + std::to_string(status.current_version);
    std::string stalled = stalled_audit_tenants(deps, stall_after, clock.now());
    if (!stalled.empty()) return {true, schema + "; " + stalled, true};
    return {true, schema};
  };
}

// Loads the configured plugins (none in safe mode) and records each one that did not
// load in every tenant's audit log. Nothing a plugin does stops the kernel from serving.
void load_plugins(plugins::PluginHost& host, const Configuration& config, bool safe_mode,
                  services::ServiceDependencies deps, const Clock& clock, Poco::Logger& log) {
  auto configured = read_plugin_settings(config);
  if (safe_mode) host.skip(configured, "not loaded: nucleo serve --safe-mode");
  else host.load(configured);
  std::vector<services::PluginLoadFailure> failures;
  for (const auto& s : host.statuses())
    if (!s.loaded) failures.push_back({s.alias, s.file, s.id, s.version, s.problem});
  services::CallContext ctx;
  ctx.tenant_id = "";
  ctx.actor = {"system", "plugin-host", ""};
  ctx.request_id = "startup";
  ctx.clock = &clock;
  try {
    std::size_t recorded = services::PluginService(deps).record_load_failures(ctx, failures);
    if (recorded) log.information("recorded %z plugin.load_failed audit events", recorded);
  } catch (const std::exception& e) {
    log.error("could not record the plugins that failed to load in the audit log: %s", std::string(e.what()));
  }
}

// One pass of the event dispatcher, and now and then a purge of delivered events.
BackgroundLoop::Pass dispatch_pass(events::Dispatcher& dispatcher, Poco::Logger& log) {
  auto next_purge = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [&dispatcher, &log, next_purge] {
    BackgroundLoop::Outcome outcome(dispatcher.run_once());
    outcome.due_in = dispatcher.due_in();
    auto now = std::chrono::steady_clock::now();
    if (now >= *next_purge) {
      *next_purge = now + std::chrono::minutes(10);
      if (auto purged = dispatcher.purge_delivered()) log.information("purged %z delivered events from the outbox", purged);
    }
    auto purge_in = std::chrono::duration_cast<std::chrono::milliseconds>(*next_purge - now);
    outcome.due_in = std::min(outcome.due_in.value_or(purge_in), purge_in);
    return outcome;
  };
}

// Job workers and the import runner sleep until a write announces work or what they
// found falls due.
BackgroundLoop::Pass job_pass(events::JobQueue& jobs) {
  return [&jobs] {
    std::optional<std::chrono::milliseconds> due_in;
    BackgroundLoop::Outcome outcome(jobs.run_once(&due_in));
    outcome.due_in = due_in;
    return outcome;
  };
}

// Keeps the leases of the batches this node's workers run from running out (every third
// of jobs.lease_ms), so the lease bounds how long a killed node's jobs wait, not how
// long a job may run. No statement while no batch runs.
BackgroundLoop::Pass lease_renewal_pass(events::JobQueue& jobs) {
  return [&jobs] {
    jobs.renew_leases();
    BackgroundLoop::Outcome idle;
    idle.due_in = std::max(std::chrono::milliseconds(1), jobs.settings().lease / 3);
    return idle;
  };
}

// What starting a cluster's background roles takes (serve's settings).
struct BackgroundParts {
  const NodeSettings& node;
  const BackgroundSettings& background;
  const AuditSettings& audit;
  const EventSettings& events;
  const JobWorkerSettings& jobs;
  const ImportRunnerSettings& imports;
  std::atomic<bool>* stopping_imports;
  store::WorkSignal* work;
  Poco::Logger* log;
};

// The background roles' work on one database cluster (ADR 0048): the home one (store.url)
// and each other cluster tenants live on (clusters.*) have their own job queue, outbox
// dispatcher, audit sequencer and import runner, over that cluster's databases — each
// cluster's queues and audit trees are its own.
struct ClusterWork {
  ClusterWork(std::string name, services::ServiceDependencies deps, const Clock& clock, const NodeSettings& node,
              const JobWorkerSettings& job_settings, const EventSettings& event_settings, const AuditSettings& audit,
              std::optional<audit::SigningKey> signing_key, const events::OutboundHttp* checkpoint_http)
      : name(std::move(name)),
        deps(deps),
        clock(clock),
        jobs(deps.worker_database, clock, job_settings.queue, node.id),
        dispatcher(deps.worker_database, clock, event_settings.dispatch, node.id),
        audit_work(deps.worker_database, clock, audit.sequence_batch, std::move(signing_key), audit.checkpoints,
                   checkpoint_http) {}

  // The roles node.roles gives this node, each a loop woken by the writes that give it work.
  void start(const BackgroundParts& p) {
    std::string suffix = name.empty() ? "" : " (cluster " + name + ")";
    if (p.node.runs("audit"))
      loops.push_back(std::make_unique<BackgroundLoop>(
          "audit sequencer" + suffix, [this] { return audit_work.run_once(); },
          BackgroundLoop::Timing{p.background.safety_poll, p.audit.sequence_interval}, p.work,
          store::kind(store::Work::audit)));
    if (p.node.runs("events"))
      loops.push_back(std::make_unique<BackgroundLoop>(
          "event dispatcher" + suffix, dispatch_pass(dispatcher, *p.log),
          BackgroundLoop::Timing{p.background.safety_poll, p.events.interval}, p.work, store::kind(store::Work::outbox)));
    if (p.node.runs("jobs")) {
      for (std::size_t i = 0; i < p.jobs.workers; ++i)
        loops.push_back(std::make_unique<BackgroundLoop>("job worker " + std::to_string(i + 1) + suffix, job_pass(jobs),
                                                         BackgroundLoop::Timing{p.background.safety_poll}, p.work,
                                                         store::kind(store::Work::jobs)));
      loops.push_back(std::make_unique<BackgroundLoop>("job lease renewal" + suffix, lease_renewal_pass(jobs),
                                                       BackgroundLoop::Timing{p.background.safety_poll}));
    }
    // Imports over HTTP: one import at a time per node and cluster, handed back when the node stops.
    if (p.imports.enabled && p.node.runs("imports"))
      loops.push_back(std::make_unique<BackgroundLoop>(
          "import runner" + suffix,
          [this, p] {
            std::optional<std::chrono::milliseconds> due_in;
            BackgroundLoop::Outcome outcome(services::ImportJobService(deps).run_one(
                clock, p.node.id, p.imports.stale_after, *p.stopping_imports, &due_in));
            outcome.due_in = due_in;
            return outcome;
          },
          BackgroundLoop::Timing{p.background.safety_poll}, p.work, store::kind(store::Work::imports)));
    log = p.log;
  }

  // After the passes under way (an import is handed back, batches settled); then what this
  // node still holds goes back at once: the next node, or this one restarted, delivers and
  // runs it now instead of when the lease runs out.
  void stop() {
    if (stopped) return;
    stopped = true;
    while (!loops.empty()) loops.pop_back();
    try {
      dispatcher.release_leases();
      jobs.release_leases();
    } catch (const std::exception& e) {
      if (log) log->warning("could not hand back this node's leases (they run out by themselves): %s", std::string(e.what()));
    }
  }

  std::string name;  // empty: home
  services::ServiceDependencies deps;
  const Clock& clock;
  events::JobQueue jobs;
  events::Dispatcher dispatcher;
  AuditWork audit_work;
  std::vector<std::unique_ptr<BackgroundLoop>> loops;
  Poco::Logger* log = nullptr;
  bool stopped = false;
};

// Stops every cluster's loops when serve leaves, by an exception too (a port taken):
// declared after the plugin host and the server, it runs before they go, so no loop calls
// into either once it is gone.
struct StopClusterWork {
  ClusterWork& home;
  std::vector<std::unique_ptr<ClusterWork>>& clusters;
  ~StopClusterWork() {
    home.stop();
    for (auto& cluster : clusters) cluster->stop();
  }
};

std::string roles_text(const NodeSettings& node) {
  std::string text;
  for (const auto& role : node.roles) text += (text.empty() ? "" : ", ") + role;
  return text.empty() ? "none (HTTP only)" : text;
}

// SIGINT/SIGTERM are blocked in every thread (the mask is inherited by the server's
// threads, created after this) and collected here with sigwait: no handler runs in
// an arbitrary thread, and the shutdown path is ordinary code.
sigset_t block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run_serve(const ParsedArgs& args) {
  sigset_t signals = block_termination_signals();
  auto config = load_configuration(args.value("config"), process_environment());
  Poco::Logger& log = setup_logging(config);
  http::ServerSettings http_settings = read_http_settings(config);
  http::ApiSettings api_settings = read_api_settings(config);
  if (get_string(config, "http.cursor_secret").empty())
    log.warning("http.cursor_secret is not set: list cursors will not survive a restart or cross nodes");

  KernelRuntime runtime(config, 0, /*tolerate_old_schema=*/true, [&](const store::Migration& m) {
    log.information("applied migration " + store::migration_label(m));
  });
  if (runtime.secrets_key_created())
    log.warning("created a new secrets key at %s: back it up apart from the database; every node needs the same file",
                state_path(config, get_string(config, "secrets.key_file")));
  AuditSettings audit = read_audit_settings(config);
  std::optional<audit::SigningKey> signing_key;
  if (audit.signing_key_file.empty())
    log.warning("audit.signing_key_file is not set: no audit checkpoints will be signed");
  else
    signing_key = audit::SigningKey::load(audit.signing_key_file);
  SystemClock clock;
  NodeSettings node = read_node_settings(config);
  JobWorkerSettings job_settings = read_job_settings(config);
  EventSettings event_settings = read_event_settings(config);
  events::OutboundSettings outbound = read_outbound_settings(config);
  events::OutboundSettings publishing = checkpoint_outbound_settings(outbound, audit.checkpoints.publish_url);
  publishing.retries = 0;  // the next checkpoint supersedes a lost one
  events::OutboundHttp checkpoint_http(publishing);
  ClusterWork home("", runtime.dependencies(), clock, node, job_settings, event_settings, audit, std::move(signing_key),
                   &checkpoint_http);
  plugins::PluginHost plugin_host(*plugins::parse_version(nucleo_version), runtime.dependencies(), outbound);
  plugin_host.remember_channel_accounts(std::chrono::seconds(get_integer(config, "channels.cache_seconds", 0, 3600)));
  // A webhook attempt is one request: the job queue retries it, and logs each.
  events::OutboundSettings single_attempt = outbound;
  single_attempt.retries = 0;
  events::OutboundHttp webhook_http(single_attempt);
  automation::SalesJobSettings sales = read_sales_job_settings(config);
  automation::AutomationSettings automation_settings = read_automation_settings(config);
  std::string scan_schedule = get_string(config, "automation.scan_schedule");
  std::string retention_schedule = get_string(config, "privacy.retention_schedule");
  // What every cluster's queue runs and every cluster's dispatcher delivers to.
  auto add_kernel_work = [&](ClusterWork& work) {
    services::ServiceDependencies deps = work.deps;
    work.jobs.add(services::webhook_delivery_job(deps, webhook_http, clock));
    work.jobs.add(automation::stalled_deals_job(deps, clock, sales));
    work.jobs.add(automation::task_reminders_job(deps, clock, sales));
    work.jobs.add(services::privacy_report_job(deps, clock));
    work.jobs.add(services::retention_job(deps, clock, retention_schedule));
    automation::ChannelAccess rule_channels{&work.jobs, [&plugin_host](const std::string& plugin_id) {
                                              return plugin_host.channel_traits(plugin_id);
                                            }};
    work.jobs.add(automation::rules_scan_job(deps, clock, rule_channels, automation_settings, scan_schedule));
    work.jobs.add(automation::cadence_steps_job(deps, clock, rule_channels, scan_schedule));
    for (auto& subscriber : plugin_host.event_subscribers(clock)) work.dispatcher.add(std::move(subscriber));
    work.dispatcher.add(services::webhook_fanout(deps, work.jobs, clock));
    work.dispatcher.add(automation::checklist_subscriber(deps, clock));
    work.dispatcher.add(automation::rules_subscriber(deps, clock, rule_channels, automation_settings));
    work.dispatcher.add(automation::cadence_stops_subscriber(deps, clock));
  };
  plugin_host.attach_jobs(home.jobs, clock);  // before the plugins load: they add their jobs to it
  load_plugins(plugin_host, config, args.has("safe-mode"), runtime.dependencies(), clock, log);
  add_kernel_work(home);
  http::Server server(http_settings, readiness_of(runtime.database(), runtime.dependencies(), audit.stall_after, clock),
                      http::ApiRuntime{runtime.dependencies(), api_settings, &clock, &plugin_host, &webhook_http, &home.jobs});
  if (std::string dir = get_string(config, "automation.rules_dir"); !dir.empty())
    for (const auto& line : automation::apply_rules_dir(runtime.dependencies(), clock, dir))
      log.information(line);
  // Tenants on other clusters (clusters.*): the same roles on each, over its databases.
  std::vector<std::unique_ptr<ClusterWork>> clusters;
  if (store::TenantPlacement* placement = runtime.placement())
    for (const auto& cluster : placement->clusters()) {
      clusters.push_back(std::make_unique<ClusterWork>(
          cluster.name, runtime.dependencies_on(*cluster.requests, *cluster.worker), clock, node, job_settings,
          event_settings, audit,
          audit.signing_key_file.empty() ? std::nullopt
                                         : std::optional<audit::SigningKey>(audit::SigningKey::load(audit.signing_key_file)),
          &checkpoint_http));
      add_kernel_work(*clusters.back());
      plugin_host.run_jobs_on(clusters.back()->jobs);
    }
  BackgroundSettings background = read_background_settings(config);
  ImportRunnerSettings import_settings = read_import_runner_settings(config);
  std::atomic<bool> stopping_imports{false};
  BackgroundParts parts{node, background, audit, event_settings, job_settings, import_settings, &stopping_imports,
                        &runtime.work_signal(), &log};
  StopClusterWork stop_cluster_work{home, clusters};
  home.start(parts);
  for (auto& cluster : clusters) cluster->start(parts);
  // Read replicas: reads go to one only once a check has found it fresh (ADR 0048).
  std::unique_ptr<BackgroundLoop> replica_checks;
  if (store::ReplicaSet* replicas = runtime.replicas()) {
    replicas->check();
    std::chrono::milliseconds every = replicas->settings().check_every;
    replica_checks = std::make_unique<BackgroundLoop>(
        "replica check",
        [replicas, every] {
          replicas->check();
          BackgroundLoop::Outcome idle;
          idle.due_in = every;
          return idle;
        },
        BackgroundLoop::Timing{background.safety_poll});
  }
  server.describe_node([&node, &home, &clusters] {
    std::size_t subscribers = home.dispatcher.leases_held(), jobs = home.jobs.leases_held();
    for (const auto& c : clusters) {
      subscribers += c->dispatcher.leases_held();
      jobs += c->jobs.leases_held();
    }
    return http::NodeStatus{node.id, node.roles, {{"event_subscribers", subscribers}, {"jobs", jobs}}};
  });
  runtime.listen_to_other_nodes();
  // Serve last: a request answered before the dispatcher registered its subscribers
  // would write events a subscriber new to this database never sees (a new subscriber
  // starts at the end of the outbox).
  server.start();
  log.information("nucleo serving on http://%s:%hu (store %s, %z connections; node %s, roles: %s)",
                  http_settings.transport.host, server.port(), runtime.database().url().display,
                  runtime.store_settings().pool_size, node.id, roles_text(node));

  int received = 0;
  sigwait(&signals, &received);
  // /readyz says 503 first, while requests are still served: a load balancer takes the
  // node out before its connections close (issue #26).
  log.information("signal %d received: /readyz answers 503; stopping in %z ms", received,
                  static_cast<std::size_t>(http_settings.drain_window.count()));
  server.begin_draining();
  std::this_thread::sleep_for(http_settings.drain_window);
  server.stop();
  stopping_imports = true;
  home.stop();
  for (auto& cluster : clusters) cluster->stop();
  log.information("stopped");
  return exit_ok;
}

}  // namespace

CommandSpec serve_command() {
  CommandSpec c;
  c.name = "serve";
  c.summary = "run the HTTP server";
  c.description =
      "Applies pending migrations (unless store.migrate_on_start = false), opens the\n"
      "connection pool and serves HTTP on http.host:http.port until SIGINT or SIGTERM.\n"
      "Endpoints: GET /healthz (liveness), GET /readyz (database reachable, schema current).\n"
      "Also runs the audit sequencer, the event dispatcher, the job workers and the import runner,\n"
      "each woken by the writes that give it work (and on its own every background.safety_poll_ms);\n"
      "node.roles chooses which of them this node runs, node.id names it (docs/operations.md).\n"
      "With store.replica_urls, lists and searches may read a streaming replica (ADR 0048).\n"
      "stage checklists and the stalled-deal and task-reminder jobs (sales.*).\n"
      "Loads the plugins configured as plugins.<alias>.file (docs/plugin-authoring.md); one\n"
      "that fails is logged, listed with its reason at GET /v1/plugins and recorded in the\n"
      "audit log, and the kernel serves without it.";
  c.options = {config_option(), {"safe-mode", "", "load no plugin (to start a node a plugin keeps from working)"}};
  c.run = [](const ParsedArgs& args, std::ostream&, std::ostream&) { return run_serve(args); };
  return c;
}

}  // namespace nucleo::app
