#include "kernel/app/settings.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo::app {
namespace {

store::DatabaseUrl read_url(const Configuration& config, const std::string& key, const std::string& fallback_key) {
  std::string text = get_string(config, key);
  if (text.empty() && !fallback_key.empty()) text = get_string(config, fallback_key);
  try {
    store::DatabaseUrl url = store::parse_database_url(text);
    if (url.backend == store::Backend::sqlite && !std::filesystem::path(url.sqlite_path).is_absolute())
      url = store::parse_database_url("sqlite:" + state_path(config, url.sqlite_path));
    return url;
  } catch (const Error& e) {
    throw Error(ErrorCode::validation, "configuration key " + key + ": " + e.what(), {{key, e.what()}});
  }
}

// A setting holding a list: "a, b,c" → {a, b, c}; empty items are left out.
std::vector<std::string> comma_separated(const Configuration& config, const std::string& key) {
  std::vector<std::string> items;
  std::string text = get_string(config, key);
  for (std::size_t start = 0; start < text.size();) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::string state_path(const Configuration& config, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty() || fs::path(path).is_absolute()) return path;
  fs::path base = get_string(config, "state_dir");
  if (base.empty()) {
    std::error_code ec;
    fs::path exe = fs::canonical("/proc/self/exe", ec);
    base = ec ? fs::current_path() : exe.parent_path().parent_path();
  }
  return (fs::absolute(base) / path).lexically_normal().string();
}

namespace {

// clusters.<name>.url (request role), .worker_url and .owner_url (default: .url): the
// other PostgreSQL clusters of a deployment whose tenants live on more than one.
std::vector<store::ClusterUrls> read_clusters(const Configuration& config, const StoreSettings& home) {
  std::vector<store::ClusterUrls> clusters;
  Poco::Util::AbstractConfiguration::Keys names;
  config->keys("clusters", names);
  for (const auto& name : names) {
    std::string key = "clusters." + name;
    if (name == store::home_cluster || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      throw Error(ErrorCode::validation, "configuration key " + key + ": a cluster's name is lower-case letters, digits, '_' and '-', and not 'home' (store.url's cluster)",
                  {{key, "invalid cluster name"}});
    if (home.url.backend != store::Backend::postgresql)
      throw Error(ErrorCode::validation, "configuration key " + key + ": clusters need a PostgreSQL store.url",
                  {{key, "PostgreSQL only"}});
    store::ClusterUrls c{name, read_url(config, key + ".url", ""), read_url(config, key + ".worker_url", key + ".url"),
                         read_url(config, key + ".owner_url", key + ".url")};
    for (store::DatabaseUrl* url : {&c.url, &c.worker_url, &c.owner_url}) {
      if (url->backend != store::Backend::postgresql)
        throw Error(ErrorCode::validation, "configuration key " + key + ".url: a cluster is a PostgreSQL database",
                    {{key + ".url", "PostgreSQL only"}});
      url->prepared_statements = home.url.prepared_statements;
    }
    clusters.push_back(std::move(c));
  }
  return clusters;
}

}  // namespace

StoreSettings read_store_settings(const Configuration& config) {
  StoreSettings s;
  s.url = read_url(config, "store.url", "");
  s.worker_url = read_url(config, "store.worker_url", "store.url");
  s.owner_url = read_url(config, "store.owner_url", "store.url");
  s.listen_url = read_url(config, "store.listen_url", get_string(config, "store.worker_url").empty() ? "store.url"
                                                                                                  : "store.worker_url");
  s.pool_size = static_cast<std::size_t>(get_integer(config, "store.pool_size", 1, 1000));
  s.lease_timeout = std::chrono::milliseconds(get_integer(config, "store.lease_timeout_ms", 1, 600000));
  s.migrate_on_start = get_bool(config, "store.migrate_on_start");
  bool prepared = get_bool(config, "store.prepared_statements");
  for (store::DatabaseUrl* url : {&s.url, &s.worker_url, &s.owner_url}) url->prepared_statements = prepared;
  if (s.url.backend != s.owner_url.backend || s.url.backend != s.worker_url.backend ||
      s.url.backend != s.listen_url.backend)
    throw Error(ErrorCode::validation,
                "store.url, store.worker_url, store.owner_url and store.listen_url must use the same backend",
                {{"store.owner_url", "backend differs from store.url"}});
  for (const auto& text : comma_separated(config, "store.replica_urls")) {
    store::DatabaseUrl replica;
    try {
      replica = store::parse_database_url(text);
    } catch (const Error& e) {
      throw Error(ErrorCode::validation, "configuration key store.replica_urls: " + std::string(e.what()),
                  {{"store.replica_urls", e.what()}});
    }
    if (replica.backend != store::Backend::postgresql || s.url.backend != store::Backend::postgresql)
      throw Error(ErrorCode::validation, "configuration key store.replica_urls: replicas are PostgreSQL streaming replicas of a PostgreSQL store.url",
                  {{"store.replica_urls", "PostgreSQL only"}});
    replica.prepared_statements = prepared;
    s.replicas.urls.push_back(replica);
  }
  s.replicas.max_lag = std::chrono::milliseconds(get_integer(config, "store.replica_max_lag_ms", 0, 3'600'000));
  s.replicas.check_every = std::chrono::milliseconds(get_integer(config, "store.replica_check_ms", 10, 60'000));
  s.replicas.pool_size = s.pool_size;
  s.replicas.lease_timeout = s.lease_timeout;
  s.placement_cache = std::chrono::milliseconds(get_integer(config, "store.placement_cache_ms", 10, 60'000));
  s.clusters = read_clusters(config, s);
  return s;
}

EventSettings read_event_settings(const Configuration& config) {
  using std::chrono::milliseconds;
  EventSettings s;
  s.interval = milliseconds(get_integer(config, "events.dispatch_interval_ms", 0, 60000));
  s.dispatch.batch = static_cast<std::size_t>(get_integer(config, "events.dispatch_batch", 1, 10000));
  s.dispatch.max_attempts = static_cast<int>(get_integer(config, "events.max_attempts", 1, 100));
  s.dispatch.first_retry = milliseconds(get_integer(config, "events.retry_first_ms", 1, 86400000));
  s.dispatch.max_retry = milliseconds(get_integer(config, "events.retry_max_ms", 1, 86400000));
  s.dispatch.max_depth = static_cast<int>(get_integer(config, "events.max_depth", 1, 1000));
  s.dispatch.lease = milliseconds(get_integer(config, "events.lease_ms", 100, 3600000));
  s.dispatch.gap_timeout = milliseconds(get_integer(config, "events.gap_timeout_ms", 100, 3600000));
  s.dispatch.retention = std::chrono::hours(24 * get_integer(config, "events.retention_days", 0, 3650));
  if (s.dispatch.max_retry < s.dispatch.first_retry)
    throw Error(ErrorCode::validation, "events.retry_max_ms is smaller than events.retry_first_ms",
                {{"events.retry_max_ms", "must not be smaller than events.retry_first_ms"}});
  return s;
}

automation::SalesJobSettings read_sales_job_settings(const Configuration& config) {
  using std::chrono::minutes;
  automation::SalesJobSettings s;
  s.stalled_interval = minutes(get_integer(config, "sales.stalled_interval_minutes", 1, 1440));
  s.stall.activity_resets = get_bool(config, "sales.stalled_activity_resets");
  s.stall.max_per_run = static_cast<std::size_t>(get_integer(config, "sales.stalled_max_per_run", 1, 1000000));
  s.reminder_interval = minutes(get_integer(config, "sales.reminder_interval_minutes", 1, 1440));
  s.reminder_lead = minutes(get_integer(config, "sales.reminder_lead_minutes", 0, 10080));
  return s;
}

automation::AutomationSettings read_automation_settings(const Configuration& config) {
  automation::AutomationSettings s;
  s.max_depth = static_cast<int>(get_integer(config, "automation.max_depth", 1, 1000));
  s.scan_max_per_rule = static_cast<std::size_t>(get_integer(config, "automation.scan_max_per_rule", 1, 1000000));
  if (s.max_depth >= get_integer(config, "events.max_depth", 1, 1000))
    throw Error(ErrorCode::validation, "automation.max_depth must be below events.max_depth: deeper events reach no "
                                       "subscriber, so the loop guard would never see them");
  return s;
}

bool NodeSettings::runs(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

NodeSettings read_node_settings(const Configuration& config) {
  NodeSettings s;
  s.id = get_string(config, "node.id");
  if (s.id.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    s.id = std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
  }
  // Leases are compared by this text, and a job's lease adds "#<batch>" to it.
  if (s.id.size() > 100 || s.id.find_first_of("#\"\\ \t\r\n") != std::string::npos)
    throw Error(ErrorCode::validation, "configuration key node.id: at most 100 characters, without spaces, quotes or '#'",
                {{"node.id", "at most 100 characters, without spaces, quotes or '#'"}});
  static const std::vector<std::string> known{"audit", "events", "jobs", "imports"};
  for (const auto& role : comma_separated(config, "node.roles")) {
    if (role == "none") continue;  // HTTP only, also where an empty value cannot be set
    if (std::find(known.begin(), known.end(), role) == known.end())
      throw Error(ErrorCode::validation, "configuration key node.roles: unknown role '" + role + "'",
                  {{"node.roles", "expected a list of audit, events, jobs and imports, or none"}});
    if (!s.runs(role)) s.roles.push_back(role);
  }
  return s;
}

BackgroundSettings read_background_settings(const Configuration& config) {
  BackgroundSettings s;
  s.safety_poll = std::chrono::milliseconds(get_integer(config, "background.safety_poll_ms", 10, 3'600'000));
  s.notify_gap = std::chrono::milliseconds(get_integer(config, "background.notify_gap_ms", 0, 10'000));
  return s;
}

ImportRunnerSettings read_import_runner_settings(const Configuration& config) {
  ImportRunnerSettings s;
  s.enabled = get_bool(config, "imports.runner");
  s.stale_after = std::chrono::milliseconds(get_integer(config, "imports.stale_after_ms", 100, 3'600'000));
  return s;
}

JobWorkerSettings read_job_settings(const Configuration& config) {
  using std::chrono::milliseconds;
  JobWorkerSettings s;
  s.workers = static_cast<std::size_t>(get_integer(config, "jobs.workers", 0, 64));
  s.queue.max_attempts = static_cast<int>(get_integer(config, "jobs.max_attempts", 1, 100));
  s.queue.first_retry = milliseconds(get_integer(config, "jobs.retry_first_ms", 1, 86400000));
  s.queue.max_retry = milliseconds(get_integer(config, "jobs.retry_max_ms", 1, 86400000));
  s.queue.lease = milliseconds(get_integer(config, "jobs.lease_ms", 100, 86400000));
  s.queue.batch = static_cast<std::size_t>(get_integer(config, "jobs.batch", 1, 1000));
  s.queue.batch_window = milliseconds(get_integer(config, "jobs.batch_window_ms", 0, 600000));
  if (s.queue.max_retry < s.queue.first_retry)
    throw Error(ErrorCode::validation, "jobs.retry_max_ms is smaller than jobs.retry_first_ms",
                {{"jobs.retry_max_ms", "must not be smaller than jobs.retry_first_ms"}});
  return s;
}

events::OutboundSettings read_outbound_settings(const Configuration& config) {
  events::OutboundSettings s;
  s.allow = comma_separated(config, "outbound.allow");
  s.timeout = std::chrono::milliseconds(get_integer(config, "outbound.timeout_ms", 100, 600000));
  s.ca_file = get_string(config, "outbound.ca_file");
  s.retries = static_cast<int>(get_integer(config, "outbound.retries", 0, 10));
  s.max_response_bytes = static_cast<std::size_t>(get_integer(config, "outbound.max_response_bytes", 1024, 1 << 30));
  return s;
}

AuditSettings read_audit_settings(const Configuration& config) {
  AuditSettings s;
  s.sequence_interval = std::chrono::milliseconds(get_integer(config, "audit.sequence_interval_ms", 0, 60000));
  s.sequence_batch = static_cast<std::size_t>(get_integer(config, "audit.sequence_batch", 1, 10000));
  s.stall_after = std::chrono::seconds(get_integer(config, "audit.stall_after_s", 1, 86400));
  s.signing_key_file = get_string(config, "audit.signing_key_file");
  s.checkpoints.origin_host = get_string(config, "audit.origin_host");
  if (s.checkpoints.origin_host.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    s.checkpoints.origin_host = host[0] != 0 ? host : "localhost";
  }
  s.checkpoints.interval = std::chrono::seconds(get_integer(config, "audit.checkpoint_interval_s", 1, 86400));
  s.checkpoints.every_events =
      static_cast<std::uint64_t>(get_integer(config, "audit.checkpoint_every_events", 1, 100000000));
  s.checkpoints.publish_dir = get_string(config, "audit.publish_dir");
  s.checkpoints.publish_url = get_string(config, "audit.publish_url");
  if (!s.checkpoints.publish_url.empty()) {
    try {
      events::OutboundHttp::parse_url(s.checkpoints.publish_url);
    } catch (const Error& e) {
      throw Error(ErrorCode::validation, std::string("audit.publish_url: ") + e.what(),
                  {{"audit.publish_url", "must be an http:// or https:// URL without credentials"}});
    }
  }
  return s;
}

int http_workers(long configured, unsigned cores) {
  if (configured > 0) return static_cast<int>(configured);
  // 0: twice the cores, at least 4 (ADR 0049). More requests running at once than the cores
  // can serve only wait in the scheduler's queue beside the database's backends.
  return static_cast<int>(std::max(4u, 2 * cores));
}

http::ServerSettings read_http_settings(const Configuration& config) {
  http::ServerSettings s;
  http::TransportSettings& t = s.transport;
  t.host = get_string(config, "http.host");
  t.port = static_cast<std::uint16_t>(get_integer(config, "http.port", 0, 65535));
  t.workers = http_workers(get_integer(config, "http.max_threads", 0, 4096), std::thread::hardware_concurrency());
  t.max_queued = static_cast<int>(get_integer(config, "http.max_queued", 1, 100000));
  t.body_limit = static_cast<std::size_t>(get_integer(config, "http.body_limit", 1024, 1L << 30));
  t.header_limit = static_cast<std::size_t>(get_integer(config, "http.header_limit", 1024, 1 << 20));
  t.upload_limit = static_cast<std::size_t>(get_integer(config, "imports.max_upload_bytes", 1024, 4L << 30));
  auto milliseconds = [&](const std::string& key) {
    return std::chrono::milliseconds(get_integer(config, key, 100, 3'600'000));
  };
  t.header_timeout = milliseconds("http.header_timeout_ms");
  t.keep_alive_timeout = milliseconds("http.keep_alive_timeout_ms");
  t.body_timeout = milliseconds("http.body_timeout_ms");
  t.write_timeout = milliseconds("http.write_timeout_ms");
  t.min_body_rate = static_cast<std::size_t>(get_integer(config, "http.min_body_rate", 1, 1L << 30));
  t.max_connections = static_cast<std::size_t>(get_integer(config, "http.max_connections", 1, 1'000'000));
  t.max_connections_per_client =
      static_cast<std::size_t>(get_integer(config, "http.max_connections_per_client", 1, 1'000'000));
  t.trusted_proxies = events::AddressBlocks(comma_separated(config, "http.trusted_proxies"), "http.trusted_proxies");
  s.json_depth = static_cast<std::size_t>(get_integer(config, "limits.json_depth", 2, 1000));
  s.rate_per_second = static_cast<double>(get_integer(config, "limits.rate_per_second", 1, 1000000));
  s.rate_burst = static_cast<double>(get_integer(config, "limits.rate_burst", 1, 1000000));
  s.auth_failures_per_minute = static_cast<int>(get_integer(config, "limits.auth_failures_per_minute", 1, 1000000));
  s.credential_cache_ttl = std::chrono::seconds(get_integer(config, "auth.cache_seconds", 0, 3600));
  s.drain_window = std::chrono::milliseconds(get_integer(config, "http.drain_window_ms", 0, 3'600'000));
  s.stop_timeout = std::chrono::milliseconds(get_integer(config, "http.stop_timeout_ms", 0, 3'600'000));
  return s;
}

http::ApiSettings read_api_settings(const Configuration& config) {
  http::ApiSettings s;
  s.default_page_size = static_cast<std::size_t>(get_integer(config, "limits.page_size_default", 1, 10000));
  s.max_page_size = static_cast<std::size_t>(get_integer(config, "limits.page_size_max", 1, 10000));
  if (s.default_page_size > s.max_page_size)
    throw Error(ErrorCode::validation, "limits.page_size_default is larger than limits.page_size_max",
                {{"limits.page_size_default", "must not exceed limits.page_size_max"}});
  s.cursor_secret = get_string(config, "http.cursor_secret");
  if (s.cursor_secret.empty()) s.cursor_secret = random_hex(32);
  s.sign_in.session_hours = get_integer(config, "auth.session_hours", 1, 24 * 90);
  s.sign_in.max_failed_sign_ins = static_cast<int>(get_integer(config, "auth.max_failed_sign_ins", 1, 100));
  s.sign_in.lockout_minutes = get_integer(config, "auth.lockout_minutes", 1, 24 * 60);
  s.sign_in.min_password_length = static_cast<std::size_t>(get_integer(config, "auth.min_password_length", 8, 128));
  return s;
}

namespace {

void collect_config(const Configuration& config, const std::string& prefix, const std::string& name, Json& out) {
  Poco::Util::AbstractConfiguration::Keys children;
  config->keys(prefix, children);
  if (children.empty() && !name.empty()) out[name] = config->getString(prefix);
  for (const auto& child : children) collect_config(config, prefix + "." + child, name.empty() ? child : name + "." + child, out);
}

}  // namespace

std::vector<plugins::PluginSetting> read_plugin_settings(const Configuration& config) {
  std::vector<plugins::PluginSetting> settings;
  Poco::Util::AbstractConfiguration::Keys aliases;
  config->keys("plugins", aliases);
  for (const auto& alias : aliases) {
    plugins::PluginSetting s;
    s.alias = alias;
    s.id = get_string(config, "plugins." + alias + ".id");
    s.file = get_string(config, "plugins." + alias + ".file");
    collect_config(config, "plugins." + alias + ".config", "", s.config);
    settings.push_back(std::move(s));
  }
  return settings;
}

}  // namespace nucleo::app
