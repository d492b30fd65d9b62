#include "kernel/http/server.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/prometheus_text.hpp"
#include "kernel/http/channel_routes.hpp"
#include "kernel/http/console.hpp"
#include "kernel/http/proposal_routes.hpp"
#include "kernel/domain/version.hpp"
#include "kernel/http/metrics.hpp"
#include "kernel/store/replica_set.hpp"
#include "kernel/http/openapi.hpp"
#include "kernel/http/plugin_routes.hpp"
#include "kernel/http/plugin_resources.hpp"
#include "kernel/http/problem.hpp"
#include "kernel/http/rate_limiter.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/http/import_routes.hpp"
#include "kernel/http/webhook_routes.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/auth_service.hpp"
#include "kernel/services/idempotency_service.hpp"
#include "kernel/services/operations.hpp"

namespace nucleo::http {

using Poco::Net::HTTPResponse;

struct Server::State {
  ServerSettings settings;
  ReadinessCheck readiness;
  NodeReport node;  // none: a server without background work (tests)
  std::optional<ApiRuntime> api;
  Router router;
  RateLimiter limiter;
  RateLimiter failed_authentications;  // per client address
  services::CredentialCache credentials;
  Metrics metrics;
  std::string openapi_document;
  const Transport* transport = nullptr;  // while started: its counters go to /metrics
  std::atomic<bool> draining{false};      // Server::begin_draining
  SystemClock system_clock;
  Poco::Logger& access_log = Poco::Logger::get("nucleo.access");
  Poco::Logger& log = Poco::Logger::get("nucleo.http");

  State(ServerSettings s, ReadinessCheck r, std::optional<ApiRuntime> a)
      : settings(std::move(s)),
        readiness(std::move(r)),
        api(std::move(a)),
        limiter(settings.rate_per_second, settings.rate_burst),
        failed_authentications(settings.auth_failures_per_minute / 60.0, settings.auth_failures_per_minute),
        credentials(settings.credential_cache_ttl) {}
  const Clock& clock() const { return api && api->clock ? *api->clock : system_clock; }
};

namespace {

// A client may send its own X-Request-Id to correlate logs; anything odd is replaced.
std::string request_id_for(const HttpRequest& request, const Clock& clock) {
  std::string given = request.headers.get("X-Request-Id", "");
  bool usable = !given.empty() && given.size() <= 128;
  for (char c : given) usable = usable && c > 0x20 && c < 0x7f;
  return usable ? given : generate_id("req", clock.now());
}

// The route's declared rule (Router::add), checked before its input is looked at: 403
// names the role or the missing scope. The services check again inside (docs/architecture.md).
void require_access(const Route& route, const services::Principal& caller) {
  const Access& access = route.access;
  if (std::find(access.roles.begin(), access.roles.end(), caller.role) == access.roles.end())
    throw Error(ErrorCode::forbidden, "role " + caller.role + " may not call " + route.method + " " + route.path);
  auto colon = access.scope.find(':');
  if (caller.scopes_apply &&
      !services::scopes_grant(caller.scopes, access.scope.substr(0, colon), access.scope.substr(colon + 1)))
    throw Error(ErrorCode::forbidden, "API key " + caller.key_id + " has no scope " + access.scope + " (" +
                                          route.method + " " + route.path + " needs it)");
}

class ApiHandler {
 public:
  explicit ApiHandler(Server::State& state) : s_(state) {}

  ApiResponse handle(const HttpRequest& request) {
    auto started = std::chrono::steady_clock::now();
    std::string request_id = request_id_for(request, s_.clock());
    std::string route_name = "-", tenant = "-", key = "-";
    ApiResponse result;
    try {
      result = dispatch(request, request_id, route_name, tenant, key);
    } catch (const BadRequest& e) {
      result = problem_response({400, e.what(), e.fields(), {}}, request_id);
    } catch (const Error& e) {
      Problem p = problem_of(e);
      if (p.status == 500) s_.log.error("request %s failed: %s", request_id, std::string(e.what()));
      if (p.status == 500) p.detail = "internal error; see the server log for request " + request_id;
      result = problem_response(p, request_id);
    } catch (const std::exception& e) {
      s_.log.error("request %s failed: %s", request_id, std::string(e.what()));
      result =
          problem_response({500, "internal error; see the server log for request " + request_id, {}, {}}, request_id);
    }
    result.headers["X-Request-Id"] = request_id;
    log_access(request, result.status, route_name, tenant, key, request_id, started);
    return result;
  }

  // An answer of the transport's own (a request it could not frame, or no room).
  ApiResponse transport_problem(int status, const std::string& detail) {
    std::string request_id = generate_id("req", s_.clock().now());
    ApiResponse r = problem_response({status, detail, {}, {}}, request_id);
    r.headers["X-Request-Id"] = request_id;
    s_.metrics.observe("unmatched", status, 0);
    return r;
  }

 private:
  ApiResponse dispatch(const HttpRequest& request, const std::string& request_id, std::string& route_name,
                       std::string& tenant, std::string& key) {
    const Target target = checked_target(request.target);
    const Poco::URI& uri = target.uri;
    const std::string& path = target.path;
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
      route_name = "GET " + path;
      if (!uri.getRawQuery().empty()) throw BadRequest(path + " takes no query parameters");
      return operational(request, path, request_id);
    }

    if (is_console_path(path)) {
      route_name = "GET /app/";
      return console_response(request.method, path, request.headers.get("If-None-Match", ""));
    }

    Router::Match match = s_.router.match(request.method, path);
    if (match.route == nullptr) {
      if (match.allowed_methods.empty()) throw Error(ErrorCode::not_found, "no route for " + path);
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      ApiResponse r = problem_response(
          {405, request.method + " is not allowed on " + path, {}, {{"Allow", allow}}}, request_id);
      return r;
    }
    const Route& route = *match.route;
    route_name = route.method + " " + route.path;

    ApiRequest req{request.headers, request.method, path, match.params, {}, {}, request_id, {}, s_.settings.json_depth};
    req.body = request.body;
    req.ctx.request_id = request_id;
    req.ctx.source_ip = request.client_address;
    req.ctx.reason = checked_recorded_headers(request);
    req.ctx.clock = &s_.clock();
    if (route.auth == AuthMode::bearer) {
      // A client address that keeps failing is refused before its next key is looked up.
      int retry_after = 0;
      if (!s_.failed_authentications.has_token(request.client_address, std::chrono::steady_clock::now(), retry_after)) {
        s_.log.warning("refused a request from %s: too many failed authentications", request.client_address);
        return problem_response({429, "too many failed authentications from " + request.client_address, {},
                                 {{"Retry-After", std::to_string(retry_after)}}},
                                request_id);
      }
      authenticate(request, req);
      tenant = req.ctx.tenant_id;
      key = req.ctx.principal->key_id;
      retry_after = 0;
      if (!s_.limiter.take(key, std::chrono::steady_clock::now(), retry_after))
        return problem_response(
            {429, "rate limit exceeded for API key " + key, {}, {{"Retry-After", std::to_string(retry_after)}}},
            request_id);
    }
    if (route.auth == AuthMode::bearer) require_access(route, *req.ctx.principal);
    if (!request.body.empty() && !takes_body(route))
      throw BadRequest(route.method + " " + route.path + " takes no request body");
    if (!route.raw_request_types.empty()) {
      if (auto refusal = raw_body_refusal(request, route)) return problem_response(*refusal, request_id);
    } else if (route.auth == AuthMode::bearer && !json_content(request))
      return problem_response({415, "the body must be JSON (Content-Type: application/json)",
                               {{"Content-Type", "must be application/json"}}, {}},
                              request_id);
    req.query = checked_query(uri, route);
    // Reads that may lag go to a replica fresh enough for what this client wrote; its
    // writes tell it where the primary stood after them (ADR 0048).
    store::ReadRouting routing(reads_may_lag(route), read_after(request));
    ApiResponse response =
        route.checks_credentials ? checking_credentials(route, req, request.client_address) : run_idempotently(route, req);
    if (routing.written() && request.method != "GET" && request.method != "HEAD")
      response.headers["Nucleo-Write-Position"] = store::format_wal_position(routing.written());
    // OpenAPI publishes the declared success (Route::success_status): say so when a
    // handler answers another — the end-to-end tests fail on this line in the log.
    if (response.status >= 200 && response.status < 300 && response.status != route.success_status &&
        !route.free_form)
      s_.log.error("%s %s answered %d but its route declares %d", route.method, route.path, response.status,
                   route.success_status);
    return response;
  }

  // Nucleo-Read-After: the Nucleo-Write-Position of an earlier response of this client.
  static std::uint64_t read_after(const HttpRequest& request) {
    std::string text = request.headers.get("Nucleo-Read-After", "");
    if (text.empty()) return 0;
    auto position = store::parse_wal_position(text);
    if (!position)
      throw BadRequest("the Nucleo-Read-After header must be a WAL position such as 0/16B3748 — the "
                       "Nucleo-Write-Position header of an earlier response");
    return *position;
  }

  ApiResponse operational(const HttpRequest& request, const std::string& path, const std::string& request_id) {
    if (request.method != "GET" && request.method != "HEAD")
      return problem_response({405, request.method + " is not allowed on " + path, {}, {{"Allow", "GET, HEAD"}}},
                              request_id);
    ApiResponse r;
    if (path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4";
      r.raw_body = s_.metrics.render([this] { return gauges(); });
      return r;
    }
    if (path == "/healthz") {
      r.body = {{"status", "ok"}};
      return r;
    }
    if (s_.draining)
      return problem_response({503, "this node is stopping: it answers the requests under way and then closes", {},
                               {{"Retry-After", "1"}}},
                              request_id);
    Readiness ready;
    try {
      ready = s_.readiness();
    } catch (const std::exception& e) {
      ready = {false, e.what()};
    }
    if (!ready.ready) return problem_response({503, ready.detail, {}, {}}, request_id);
    r.body = {{"status", ready.degraded ? "degraded" : "ready"}, {"detail", ready.detail}};
    if (s_.node) {
      NodeStatus node = s_.node();
      r.body["node"] = {{"id", node.id}, {"version", nucleo_version}, {"roles", node.roles}, {"leases", node.leases}};
    }
    return r;
  }

  // A failed authentication spends a token of the client address's bucket.
  void authenticate(const HttpRequest& request, ApiRequest& req) {
    try {
      std::string header = request.headers.get("Authorization", "");
      // A person's browser: the session cookie stands for an API key (ADR 0046).
      if (std::string session = header.empty() ? cookie_value(request, "nucleo_session") : ""; !session.empty())
        return authenticate_session(request, req, session);
      if (header.rfind("Bearer ", 0) != 0)
        throw Error(ErrorCode::unauthenticated, "an Authorization: Bearer <API key> header is required");
      auto who = services::AuthService(s_.api->deps, &s_.credentials)
                     .authenticate(header.substr(7), request.headers.get("On-Behalf-Of", ""), s_.clock().now());
      req.ctx.tenant_id = who.tenant_id;
      req.ctx.actor = who.actor;
      req.ctx.principal = who.principal;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unauthenticated) {
        int unused = 0;
        s_.failed_authentications.take(request.client_address, std::chrono::steady_clock::now(), unused);
        s_.log.notice("failed authentication from %s: %s", request.client_address, std::string(e.what()));
      }
      throw;
    }
  }

  // The value of cookie `name` in the request's Cookie header, or "".
  static std::string cookie_value(const HttpRequest& request, const std::string& name) {
    std::string header = request.headers.get("Cookie", "");
    std::size_t at = 0;
    while (at < header.size()) {
      std::size_t end = header.find(';', at);
      if (end == std::string::npos) end = header.size();
      std::string pair = header.substr(at, end - at);
      pair.erase(0, pair.find_first_not_of(' '));
      if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
      at = end + 1;
    }
    return "";
  }

  // A request made with a session cookie acts as its user; one that may change anything
  // must carry the session's CSRF token, which another site's page cannot read.
  void authenticate_session(const HttpRequest& request, ApiRequest& req, const std::string& secret) {
    std::string csrf_hash;
    auto who = services::AuthService(s_.api->deps, &s_.credentials).authenticate_session(secret, s_.clock().now(), csrf_hash);
    if (!request.headers.get("On-Behalf-Of", "").empty())
      throw Error(ErrorCode::forbidden, "On-Behalf-Of is for integration keys only");
    bool reads_only = request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS";
    std::string token = request.headers.get("X-CSRF-Token", "");
    if (!reads_only && (token.empty() || !constant_time_equal(sha256_hex(token), csrf_hash)))
      throw Error(ErrorCode::forbidden, "a " + request.method + " made with the session cookie must carry the session's "
                                        "X-CSRF-Token header (POST /v1/sessions answered it)");
    req.ctx.tenant_id = who.tenant_id;
    req.ctx.actor = who.actor;
    req.ctx.principal = who.principal;
  }

  // A route that checks a credential itself (Route::checks_credentials): a client address
  // that keeps failing is refused before its next try, and each failure counts.
  ApiResponse checking_credentials(const Route& route, ApiRequest& req, const std::string& client) {
    int retry_after = 0;
    if (!s_.failed_authentications.has_token(client, std::chrono::steady_clock::now(), retry_after))
      return problem_response({429, "too many failed sign-ins from " + client, {},
                               {{"Retry-After", std::to_string(retry_after)}}},
                              req.request_id);
    try {
      return route.handler(req);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unauthenticated) {
        s_.failed_authentications.take(client, std::chrono::steady_clock::now(), retry_after);
        s_.log.notice("failed sign-in from %s", client);
      }
      throw;
    }
  }

  // Idempotency-Key on POST (docs/api.md, "Idempotency"; ADR 0033): a replay returns the
  // stored status and body. The key is scoped per API key and operation.
  ApiResponse run_idempotently(const Route& route, ApiRequest& req) {
    std::string key = req.header("Idempotency-Key");
    if (route.method != "POST" || key.empty() || route.auth != AuthMode::bearer) return route.handler(req);
    if (key.size() > 255) throw BadRequest("Idempotency-Key is longer than 255 characters");
    using Idempotency = services::IdempotencyService;
    Idempotency::Attempt attempt{route.method + " " + route.path, key,
                                 Idempotency::fingerprint(route.method, req.path, req.body)};
    // A request that raced another with the same key waited for it at the key's row and
    // failed there (PostgreSQL): the second round finds the other's answer.
    for (int round = 1;; ++round) {
      Attempted attempted;
      try {
        return once(route, req, attempt, attempted);
      } catch (...) {
        if (attempted.failure) {
          // The handler's own exception, as it threw it (a BadRequest stays a 400), not
          // as the transaction it ran in reports it.
          if (attempted.refusal) remember_refusal(req, attempt, *attempted.refusal);
          std::rethrow_exception(attempted.failure);
        }
        bool raced = false;
        try {
          throw;
        } catch (const Error& e) {
          raced = !attempted.began && e.code() == ErrorCode::aborted;
        } catch (...) {
        }
        if (!raced || round > 1) throw;
      }
    }
  }

  struct Attempted {
    bool began = false;               // the handler ran
    std::exception_ptr failure;       // what the handler threw
    std::optional<Problem> refusal;   // that, when it is a final answer (a 4xx)
  };

  // The request's work and the memory of its answer in one transaction: if the work
  // commits, so does the answer a retry replays (issue #26: a create that failed after
  // its commit was applied twice). Work that fails rolls back alone where a handler
  // catches it and goes on (Joined::roll_back_alone).
  ApiResponse once(const Route& route, ApiRequest& req, const services::IdempotencyService::Attempt& attempt,
                   Attempted& attempted) {
    using Idempotency = services::IdempotencyService;
    store::Database& database = s_.api->deps.database;
    const std::string& tenant = req.ctx.tenant_id;
    return database.in_one_transaction(
        tenant,
        [&] {
          auto begun = database.write(tenant, [&](store::Transaction& tx) {
            return Idempotency::begin_in(tx, req.ctx, attempt);
          });
          using Outcome = Idempotency::Outcome;
          if (begun.outcome == Outcome::mismatch)
            throw Error(ErrorCode::validation,
                        "Idempotency-Key " + attempt.key + " was used with a different request body",
                        {{"Idempotency-Key", "reused with a different body"}});
          if (begun.outcome == Outcome::in_flight)
            throw Error(ErrorCode::aborted, "a request with Idempotency-Key " + attempt.key + " is still in progress");
          if (begun.outcome == Outcome::replay) return replayed(route, req, attempt.key, begun.status, begun.body);
          attempted.began = true;
          ApiResponse r;
          try {
            r = route.handler(req);
          } catch (...) {
            attempted.failure = std::current_exception();
            attempted.refusal = final_refusal(attempted.failure);
            throw;
          }
          database.write(tenant, [&](store::Transaction& tx) {
            Idempotency::complete_in(tx, req.ctx, attempt, r.status,
                                     r.raw_body.empty() ? to_json_text(r.body) : r.raw_body);
          });
          return r;
        },
        store::Database::Joined::roll_back_alone);
  }

  // A final refusal is an answer worth replaying; one the caller should retry (a
  // concurrent change, a rate limit, a server-side failure) is not, nor a malformed
  // request (judged again on retry).
  static std::optional<Problem> final_refusal(const std::exception_ptr& failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      if (!retryable(e.code())) return problem_of(e);
    } catch (...) {
    }
    return std::nullopt;
  }

  // After the request's transaction rolled back: its final refusal, for the retry.
  void remember_refusal(const ApiRequest& req, const services::IdempotencyService::Attempt& attempt, const Problem& p) {
    try {
      services::IdempotencyService(s_.api->deps)
          .remember_refusal(req.ctx, attempt, p.status, to_json_text(problem_json(p, req.request_id)));
    } catch (const std::exception& e) {
      // The refusal still reaches the client; a retry is then judged afresh.
      s_.log.warning("request %s: could not remember its refusal for Idempotency-Key %s: %s", req.request_id,
                     attempt.key, std::string(e.what()));
    }
  }

  // The stored answer to an Idempotency-Key, with the headers it had: a record's ETag
  // and, for a creation, its Location. An answer redacted by an erasure is gone (410).
  static ApiResponse replayed(const Route& route, const ApiRequest& req, const std::string& key, int status,
                              const std::string& body) {
    ApiResponse replay;
    if (services::IdempotencyService::is_redacted(body)) {
      replay = problem_response({410, "the answer stored for Idempotency-Key " + key +
                                          " held personal data since erased; the request was applied",
                                 {}, {}},
                                req.request_id);
    } else {
      replay.status = status;
      replay.raw_body = body;
      replay.content_type = status >= 400 ? "application/problem+json" : "application/json";
      bool one_record = answers_one_record(route) || route.answers_location;
      Json record = status < 300 && one_record ? Json::parse(body, nullptr, false) : Json();
      if (record.is_object() && record.contains("id") && record.contains("version")) {
        replay.headers["ETag"] = etag_of(record);
        if (route.kind == "create" || route.answers_location)
          replay.headers["Location"] = req.path + "/" + record["id"].get<std::string>();
      }
    }
    replay.headers["Idempotent-Replayed"] = "true";
    return replay;
  }

  // Connections, pool use and backlogs, read at scrape time.
  std::string gauges() {
    PrometheusText out;
    if (const Transport* transport = s_.transport) {
      TransportCounters c = transport->counters();
      out.family("nucleo_http_connections_open", "gauge", "Client connections open now.")
          .sample("nucleo_http_connections_open", static_cast<double>(c.open_connections))
          .family("nucleo_http_connections_refused_total", "counter",
                  "Connections refused over http.max_connections or the per-client limit.")
          .sample("nucleo_http_connections_refused_total", static_cast<double>(c.refused_connections))
          .family("nucleo_http_timeouts_total", "counter",
                  "Connections closed because a header, body or write deadline passed.")
          .sample("nucleo_http_timeouts_total", static_cast<double>(c.timed_out))
          .family("nucleo_http_malformed_total", "counter",
                  "Requests refused unread (400, 413, 431) and their connection closed.")
          .sample("nucleo_http_malformed_total", static_cast<double>(c.malformed));
    }
    if (s_.node) node_gauges(out, s_.node());
    if (!s_.api) return out.str();
    out.family("nucleo_db_pool_connections", "gauge", "Database sessions in use and pool size.");
    auto pool = [&](const char* name, store::ConnectionPool& p) {
      out.sample("nucleo_db_pool_connections", {{"pool", name}, {"state", "in_use"}}, static_cast<double>(p.in_use()))
          .sample("nucleo_db_pool_connections", {{"pool", name}, {"state", "size"}}, static_cast<double>(p.size()));
    };
    pool("request", s_.api->deps.database.pool());
    bool separate_worker = &s_.api->deps.worker_database != &s_.api->deps.database;
    if (separate_worker) pool("worker", s_.api->deps.worker_database.pool());
    out.family("nucleo_db_pool_waiting", "gauge", "Callers waiting for a database session.")
        .sample("nucleo_db_pool_waiting", {{"pool", "request"}}, static_cast<double>(s_.api->deps.database.pool().waiting()));
    if (separate_worker)
      out.sample("nucleo_db_pool_waiting", {{"pool", "worker"}},
                 static_cast<double>(s_.api->deps.worker_database.pool().waiting()));
    if (const store::ReplicaSet* replicas = s_.api->deps.database.replicas()) replica_gauges(out, replicas->status());
    out.family("nucleo_outbox_backlog", "gauge", "Domain events a subscriber has yet to read.");
    try {
      for (const auto& [subscriber, events] : services::outbox_backlog(s_.api->deps))
        out.sample("nucleo_outbox_backlog", {{"subscriber", subscriber}}, static_cast<double>(events));
    } catch (const std::exception& e) {
      s_.log.warning("metrics: outbox backlog unavailable: %s", std::string(e.what()));
    }
    try {
      auto failing = services::failing_work(s_.api->deps);
      out.family("nucleo_event_failures", "gauge",
                 "Event deliveries failing now, per subscriber: failing (retried) or dead (GET /v1/events/dead).");
      for (const auto& f : failing)
        if (f.kind == "event")
          out.sample("nucleo_event_failures", {{"subscriber", f.name}, {"state", f.state}}, static_cast<double>(f.count));
      out.family("nucleo_job_failures", "gauge", "Jobs whose last run failed, per job: failing (runs again) or dead.");
      for (const auto& f : failing)
        if (f.kind == "job")
          out.sample("nucleo_job_failures", {{"job", f.name}, {"state", f.state}}, static_cast<double>(f.count));
    } catch (const std::exception& e) {
      s_.log.warning("metrics: failing work unavailable: %s", std::string(e.what()));
    }
    try {
      Timestamp now = s_.clock().now();
      auto backlog = services::audit_backlog(s_.api->deps);
      out.family("nucleo_audit_pending_events", "gauge", "Audit events recorded but not yet in the log, per tenant.");
      for (const auto& b : backlog)
        out.sample("nucleo_audit_pending_events", {{"tenant_id", b.tenant_id}}, static_cast<double>(b.events));
      out.family("nucleo_audit_pending_oldest_seconds", "gauge", "Age of the oldest audit event waiting for the sequencer.");
      for (const auto& b : backlog)
        out.sample("nucleo_audit_pending_oldest_seconds", {{"tenant_id", b.tenant_id}},
                   static_cast<double>(now.micros - b.oldest_recorded_at.micros) / 1e6);
    } catch (const std::exception& e) {
      s_.log.warning("metrics: audit backlog unavailable: %s", std::string(e.what()));
    }
    std::string text = out.str();
    if (s_.api->plugins) text += s_.api->plugins->metrics().render();
    return text;
  }

  static void replica_gauges(PrometheusText& out, const std::vector<store::ReplicaSet::Status>& replicas) {
    out.family("nucleo_db_replica_usable", "gauge",
               "1 when the replica takes reads that may lag; 0 when it is skipped (too stale, unreachable).");
    for (const auto& r : replicas) out.sample("nucleo_db_replica_usable", {{"replica", r.name}}, r.usable ? 1 : 0);
    out.family("nucleo_db_replica_staleness_seconds", "gauge",
               "How far the replica was behind the primary at the last check (absent: unknown).");
    for (const auto& r : replicas)
      if (r.staleness_seconds) out.sample("nucleo_db_replica_staleness_seconds", {{"replica", r.name}}, *r.staleness_seconds);
    out.family("nucleo_db_replica_reads_total", "counter", "Reads this node sent to the replica.");
    for (const auto& r : replicas)
      out.sample("nucleo_db_replica_reads_total", {{"replica", r.name}}, static_cast<double>(r.reads));
  }

  // Which node answers, and what it runs: a dashboard across nodes tells them apart and
  // sees a role nobody runs (sum by role of nucleo_node_role == 0).
  static void node_gauges(PrometheusText& out, const NodeStatus& node) {
    out.family("nucleo_node_info", "gauge", "This node: its id (node.id) and version; always 1.")
        .sample("nucleo_node_info", {{"node", node.id}, {"version", nucleo_version}}, 1);
    out.family("nucleo_node_role", "gauge", "The background roles this node runs (node.roles): 1 runs, 0 does not.");
    for (const char* role : {"audit", "events", "jobs", "imports"}) {
      bool runs = std::find(node.roles.begin(), node.roles.end(), role) != node.roles.end();
      out.sample("nucleo_node_role", {{"role", role}}, runs ? 1 : 0);
    }
    out.family("nucleo_node_leases", "gauge", "Leases this node holds now: event subscribers it dispatches for, jobs it runs.");
    for (const auto& [kind, held] : node.leases)
      out.sample("nucleo_node_leases", {{"kind", kind}}, static_cast<double>(held));
  }

  void log_access(const HttpRequest& request, int status, const std::string& route, const std::string& tenant,
                  const std::string& key, const std::string& request_id,
                  std::chrono::steady_clock::time_point started) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    s_.metrics.observe(route == "-" ? "unmatched" : route, status, seconds);
    if (!s_.access_log.information()) return;
    double ms = seconds * 1000;
    s_.access_log.information(Json{
        {"request_id", request_id},
        {"method", request.method},
        {"route", route},
        {"status", status},
        {"ms", std::round(ms * 1000) / 1000},
        {"tenant_id", tenant},
        {"key_id", key}}.dump());
  }

  Server::State& s_;
};

}  // namespace

Server::Server(ServerSettings settings, ReadinessCheck readiness, std::optional<ApiRuntime> api)
    : state_(std::make_unique<State>(std::move(settings), std::move(readiness), std::move(api))) {
  if (state_->api) {
    // Only an admin's upload may be larger than http.body_limit: decided from the head,
    // so nobody else can make the server hold an upload-sized body.
    State* s = state_.get();
    state_->settings.transport.is_upload = [s](const std::string& method, const std::string& target,
                                               const std::string& authorization) {
      if (method != "POST" || target.substr(0, target.find('?')) != "/v1/imports" ||
          authorization.rfind("Bearer ", 0) != 0)
        return false;
      try {
        auto who = services::AuthService(s->api->deps, &s->credentials)
                       .authenticate(authorization.substr(7), "", s->clock().now());
        return who.principal && who.principal->role == "admin";
      } catch (const std::exception&) {
        return false;  // the request is refused properly once its (small) body is read
      }
    };
    add_resource_routes(state_->router, state_->api->deps, state_->api->settings);
    add_webhook_routes(state_->router, state_->api->deps, state_->api->settings, state_->api->outbound);
    add_import_routes(state_->router, state_->api->deps, state_->api->settings, state_->settings.transport.upload_limit);
    std::optional<std::set<std::string>> loaded;
    if (state_->api->plugins) {
      loaded.emplace();
      for (const auto& s : state_->api->plugins->statuses())
        if (s.loaded) loaded->insert(s.id);
    }
    services::ConversationService::ChannelKinds channel_traits;
    services::ChannelAccountService::ConfigSchemas config_schemas;
    if (const plugins::PluginHost* host = state_->api->plugins) {
      channel_traits = [host](const std::string& plugin_id) { return host->channel_traits(plugin_id); };
      config_schemas = [host](const std::string& plugin_id) { return host->channel_config_schema(plugin_id); };
    }
    add_channel_routes(state_->router, state_->api->deps, loaded, state_->api->jobs, channel_traits, config_schemas);
    add_conversation_routes(state_->router, state_->api->deps, state_->api->settings, channel_traits);
    add_proposal_routes(state_->router, state_->api->deps, state_->api->jobs, channel_traits);
    if (state_->api->plugins) {
      add_plugin_routes(state_->router, *state_->api->plugins, state_->api->deps);
      add_plugin_resource_routes(state_->router, *state_->api->plugins, state_->api->settings);
    }
  }
  add_openapi_route(state_->router, state_->api ? &state_->api->deps.attribute_schemas : nullptr);
}

Server::~Server() {
  stop();
}

const Router& Server::router() const {
  return state_->router;
}

void Server::start() {
  auto handler = std::make_shared<ApiHandler>(*state_);
  transport_ = std::make_unique<Transport>(
      state_->settings.transport, [handler](const HttpRequest& r) { return handler->handle(r); },
      [handler](int status, const std::string& detail) { return handler->transport_problem(status, detail); });
  transport_->start();
  state_->transport = transport_.get();
}

void Server::describe_node(NodeReport report) {
  state_->node = std::move(report);
}

void Server::begin_draining() {
  state_->draining = true;
}

void Server::stop() {
  if (transport_) {
    state_->transport = nullptr;
    transport_->stop(state_->settings.stop_timeout);
    transport_.reset();
  }
}

std::uint16_t Server::port() const {
  return transport_ ? transport_->port() : 0;
}

}  // namespace nucleo::http
