#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/http/resources.hpp"
#include "kernel/http/router.hpp"
#include "kernel/http/transport.hpp"
#include "kernel/plugins/host.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::http {

struct ServerSettings {
  TransportSettings transport;  // address, threads, connection limits and deadlines
  std::size_t json_depth = 32;
  double rate_per_second = 50;  // per API key
  double rate_burst = 100;
  int auth_failures_per_minute = 20;  // per client address; then 429 before any key is checked
  std::chrono::microseconds credential_cache_ttl = std::chrono::seconds(5);  // 0: look every key up
  // Stopping (issue #26): /readyz answers 503 for drain_window while requests are still
  // served, so a load balancer stops sending; then requests under way (queued ones too)
  // get up to stop_timeout to be answered before the connections close.
  std::chrono::milliseconds drain_window{2000};
  std::chrono::milliseconds stop_timeout{10000};
};

// What /readyz reports: ready, or the reason the node should get no traffic.
struct Readiness {
  bool ready = false;
  std::string detail;
  bool degraded = false;  // ready, but something needs an operator (detail says what): 200 "degraded"
};
using ReadinessCheck = std::function<Readiness()>;

// This process among the nodes sharing a database (docs/operations.md), for /readyz and
// /metrics: who it is, the background roles it runs, and the leases it holds now.
struct NodeStatus {
  std::string id;
  std::vector<std::string> roles;                 // audit, events, jobs, imports
  std::map<std::string, std::size_t> leases;      // "event_subscribers", "jobs" → held now
};
using NodeReport = std::function<NodeStatus()>;

// The API the server exposes under /v1 (absent: operational endpoints only).
struct ApiRuntime {
  services::ServiceDependencies deps;
  ApiSettings settings;
  const Clock* clock;
  const plugins::PluginHost* plugins = nullptr;  // its routes and metrics are served too
  const events::OutboundHttp* outbound = nullptr;  // checks webhook URLs at creation
  events::JobQueue* jobs = nullptr;                 // queues outbound channel messages
};

// The HTTP API over the transport (transport.hpp: connections, framing, deadlines).
// Every request, read whole, runs the same pipeline:
//   request id → headers check (400) → route → auth (401) → rate limit (429)
//   → query check → idempotency → handler → error mapping (problem+json) → access log
// Operational endpoints: GET /healthz (liveness), GET /readyz (database reachable and
// schema current), GET /v1/openapi.json (the router table as OpenAPI 3.1).
class Server {
 public:
  Server(ServerSettings settings, ReadinessCheck readiness, std::optional<ApiRuntime> api = std::nullopt);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before start(): /readyz and /metrics also describe this node.
  void describe_node(NodeReport report);
  void start();
  // /readyz answers 503 from now on; everything else is served as before.
  void begin_draining();
  // Answers the requests under way (within stop_timeout), then closes every connection.
  void stop();
  std::uint16_t port() const;  // the bound port, also when 0 was asked for
  const Router& router() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
  std::unique_ptr<Transport> transport_;
};


}  // namespace nucleo::http
