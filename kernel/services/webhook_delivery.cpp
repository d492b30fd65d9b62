#include "kernel/services/webhook_delivery.hpp"

#include <Poco/Logger.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/services/webhook_service.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::text_at;

constexpr std::size_t max_logged_error = 500;

struct Target {
  std::string url, status, secret;
};

std::optional<Target> load_target(ServiceDependencies& deps, const std::string& tenant_id, const std::string& id) {
  std::optional<Target> target;
  deps.worker_database.read("", [&](store::Transaction& tx) {
    store::query(tx.session(), "SELECT url, status, secret_sealed FROM webhooks WHERE tenant_id = :p0 AND id = :p1",
                 {tenant_id, id}, [&](const store::Row& r) {
                   auto secret = deps.secrets.open(webhook_secret_binding(id), store::required_text(r, 2));
                   if (!secret)
                     throw Error(ErrorCode::internal, "the secret of webhook " + id +
                                                          " does not open with this secrets.key_file");
                   target = Target{store::required_text(r, 0), store::required_text(r, 1), *secret};
                 });
  });
  return target;
}

void log_attempt(ServiceDependencies& deps, const std::string& tenant_id, const std::string& webhook_id,
                 const Json& event, int attempt, std::optional<int> status, const std::string& error,
                 std::int64_t duration_ms, Timestamp at) {
  deps.worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id, event_name, attempt,"
                   " status_code, error, duration_ms, attempted_at) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7,"
                   " :p8, :p9)",
                   {generate_id(id_prefix::webhook_delivery, at), tenant_id, webhook_id,
                    event.value("id", ""), event.value("name", ""), std::int64_t{attempt},
                    status ? store::SqlValue{std::int64_t{*status}} : store::SqlValue{},
                    error.empty() ? store::SqlValue{} : store::SqlValue{error.substr(0, max_logged_error)}, duration_ms,
                    at.micros});
  });
}

}  // namespace

std::string standard_webhook_signature(const std::string& secret, const std::string& message_id,
                                       std::int64_t timestamp_seconds, const std::string& body) {
  std::string encoded = secret.rfind("whsec_", 0) == 0 ? secret.substr(6) : secret;
  auto key = from_base64(encoded);
  if (!key) throw Error(ErrorCode::internal, "a webhook secret is not whsec_ + base64");
  std::string signed_content = message_id + "." + std::to_string(timestamp_seconds) + "." + body;
  return "v1," + to_base64(hmac_sha256(*key, signed_content));
}

namespace {

// Each tenant's active webhooks as the fan-out last read them: read for every event,
// they cost a transaction per event (a third of an e-mail sync's statements were these).
// A change through this process drops the cache at once (webhooks_generation); one
// through another node is seen within `ttl`.
class ActiveWebhooks {
 public:
  static constexpr auto ttl = std::chrono::seconds(1);
  using Patterns = std::vector<std::pair<std::string, std::vector<std::string>>>;  // id, event patterns

  Patterns of(ServiceDependencies& deps, const std::string& tenant) {
    auto now = std::chrono::steady_clock::now();
    std::uint64_t generation = webhooks_generation();
    {
      std::lock_guard lock(mutex_);
      auto it = cache_.find(tenant);
      if (it != cache_.end() && it->second.generation == generation && now - it->second.read_at < ttl)
        return it->second.webhooks;
      if (cache_.size() > 10'000) cache_.clear();  // tenants come and go; keep it bounded
    }
    Patterns read;
    deps.worker_database.read("", [&](store::Transaction& tx) {
      store::query(tx.session(), "SELECT id, events FROM webhooks WHERE tenant_id = :p0 AND status = 'active'",
                   {tenant}, [&](const store::Row& r) {
                     std::vector<std::string> patterns;
                     for (const auto& pattern : Json::parse(store::required_text(r, 1))) patterns.push_back(pattern);
                     read.emplace_back(store::required_text(r, 0), std::move(patterns));
                   });
    });
    std::lock_guard lock(mutex_);
    cache_[tenant] = {generation, now, read};
    return read;
  }

 private:
  struct Entry {
    std::uint64_t generation;
    std::chrono::steady_clock::time_point read_at;
    Patterns webhooks;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace

events::Subscriber webhook_fanout(ServiceDependencies deps, events::JobQueue& jobs, const Clock& clock) {
  auto active = std::make_shared<ActiveWebhooks>();
  return {"kernel:webhooks", "*", [deps, &jobs, &clock, active](const Json& envelope) mutable -> std::string {
            std::string tenant = envelope.at("tenant_id").get<std::string>();
            std::string name = envelope.at("name").get<std::string>();
            for (const auto& [id, patterns] : active->of(deps, tenant))
              for (const auto& pattern : patterns)
                if (events::matches_pattern(pattern, name)) {
                  jobs.enqueue(webhook_delivery_job_name, tenant, {{"webhook_id", id}, {"event", envelope}}, clock.now());
                  break;
                }
            return "";
          }};
}

events::JobDefinition webhook_delivery_job(ServiceDependencies deps, const events::OutboundHttp& outbound,
                                           const Clock& clock) {
  auto run = [deps, &outbound, &clock](const Json& job) mutable -> std::string {
    std::string tenant = job.at("tenant_id").get<std::string>();
    const Json& payload = job.at("payload");
    std::string webhook_id = payload.at("webhook_id").get<std::string>();
    const Json& event = payload.at("event");
    auto target = load_target(deps, tenant, webhook_id);
    if (!target || target->status != "active") return "";  // deleted or disabled since: nothing to send

    Timestamp at = clock.now();
    std::string body = to_json_text(event);
    std::string message_id = event.at("id").get<std::string>();
    std::int64_t seconds = at.micros / 1'000'000;
    events::OutboundRequest request;
    request.method = "POST";
    request.url = target->url;
    request.body = body;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", std::string("Nucleo-Webhooks/") + nucleo_version},
                       {"webhook-id", message_id},
                       {"webhook-timestamp", std::to_string(seconds)},
                       {"webhook-signature", standard_webhook_signature(target->secret, message_id, seconds, body)}};
    std::optional<int> status;
    std::string error;
    auto started = std::chrono::steady_clock::now();
    try {
      auto response = outbound.send(request);
      status = response.status;
      if (response.status < 200 || response.status > 299) error = "answered HTTP " + std::to_string(response.status);
    } catch (const Error& e) {
      error = e.what();
    }
    auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log_attempt(deps, tenant, webhook_id, event, job.value("attempt", 1), status, error, duration.count(), at);
    return error;
  };
  return {webhook_delivery_job_name, std::nullopt, events::JobScope::tenant, run};
}

}  // namespace nucleo::services
