// Issue #35: the reference deployment (deploy/, docs/operations.md) on loopback — a
// PostgreSQL primary and a streaming replica, PgBouncer in transaction mode, three
// nodes, HAProxy in front. Under write load through HAProxy one node is killed
// (SIGKILL) and another stopped and started again: no acknowledged write is lost or
// applied twice, every write is audited and the log verifies, webhooks resume within
// the lease bound, and a client reads its writes from any node.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/support/http_recorder.hpp"
#include "tests/support/pgbouncer.hpp"
#include "tests/support/postgres_server.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

std::string header_of(const HttpResponse& r, const std::string& name) {
  for (const auto& [key, value] : r.headers)
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return value;
  return "";
}

// Debian's HAProxy with the choices of deploy/haproxy.cfg: health checks on /readyz,
// retries only for requests that never reached a node.
class TestHaproxy {
 public:
  explicit TestHaproxy(const std::vector<unsigned short>& nodes) : port_(free_port()) {
    std::ofstream cfg(dir_.path() + "/haproxy.cfg");
    cfg << "global\n  maxconn 2000\n"
        << "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n"
        << "  retries 2\n  retry-on conn-failure\n  option redispatch\n"
        << "frontend nucleo\n  bind 127.0.0.1:" << port_ << "\n  option forwardfor\n  default_backend nodes\n"
        << "backend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n"
        << "  default-server inter 200ms fall 2 rise 1 check maxconn 60\n";
    for (std::size_t i = 0; i < nodes.size(); ++i)
      cfg << "  server node-" << i + 1 << " 127.0.0.1:" << nodes[i] << "\n";
    cfg.close();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/haproxy", "-db", "-f", dir_.path() + "/haproxy.cfg"});
    for (int i = 0; i < 100 && !process_->listens_on(port_); ++i) {
      if (!process_->running()) throw std::runtime_error("haproxy did not start: " + process_->stderr_so_far());
      std::this_thread::sleep_for(50ms);
    }
  }
  unsigned short port() const { return port_; }
  std::string log() const { return process_->stderr_so_far(); }

 private:
  TempDir dir_;
  unsigned short port_;
  std::unique_ptr<ChildProcess> process_;
};

class Cluster : public ApiFixture {
 protected:
  void SetUp() override {
    // A delivery cut short by a node's end is retried soon: the bound under test is the
    // leases', not the back-off's.
    std::ofstream(config_dir.path() + "/nucleo.properties")
        << "outbound.allow = 127.0.0.1/32\njobs.retry_first_ms = 100\njobs.retry_max_ms = 1000\n";
    ApiFixture::SetUp();  // the first node
    if (HasFatalFailure()) return;
    ports.push_back(port);
    for (const char* id : {"node-2", "node-3"}) nodes.push_back(start_node(id));
    haproxy = std::make_unique<TestHaproxy>(ports);
  }
  std::vector<std::string> server_arguments() override { return {"--config", config_dir.path() + "/nucleo.properties"}; }

  EnvironmentChanges server_environment() override {
    PostgresServer& primary = PostgresServer::shared();
    if (!replica) {
      replica = primary.start_replica();
      pooler = std::make_unique<TestPgBouncer>(primary.port(), "transaction", 8);
    }
    std::string database = h->db.app_url.substr(h->db.app_url.find("dbname=") + 7);
    return {{"NUCLEO_STORE_URL", pooler->through(h->db.app_url)},
            {"NUCLEO_STORE_WORKER_URL", pooler->through(h->db.worker_url)},
            {"NUCLEO_STORE_LISTEN_URL", h->db.worker_url},  // LISTEN straight to PostgreSQL
            {"NUCLEO_STORE_PREPARED_STATEMENTS", "false"},
            {"NUCLEO_STORE_POOL_SIZE", "4"},
            {"NUCLEO_STORE_REPLICA_URLS", "postgresql:" + replica->url_for("nucleo_app", database)},
            {"NUCLEO_STORE_REPLICA_MAX_LAG_MS", "2000"},
            {"NUCLEO_STORE_REPLICA_CHECK_MS", "200"},
            {"NUCLEO_SECRETS_KEY_FILE", dir.path() + "/secrets.key"},  // one key, every node
            {"NUCLEO_NODE_ID", "node-1"},
            {"NUCLEO_EVENTS_LEASE_MS", std::to_string(lease.count())},
            // A write cut by the kill leaves an outbox hole; dispatch waits it out this long.
            {"NUCLEO_EVENTS_GAP_TIMEOUT_MS", "3000"},
            {"NUCLEO_JOBS_LEASE_MS", std::to_string(lease.count())},
            {"NUCLEO_BACKGROUND_SAFETY_POLL_MS", "1000"},
            {"NUCLEO_EVENTS_DISPATCH_INTERVAL_MS", "20"},
            {"NUCLEO_HTTP_DRAIN_WINDOW_MS", "800"},  // four health checks: HAProxy takes the node out first
            {"NUCLEO_LIMITS_RATE_PER_SECOND", "100000"},
            {"NUCLEO_LIMITS_RATE_BURST", "100000"}};
  }

  std::unique_ptr<ChildProcess> start_node(const std::string& id, unsigned short node_port = 0) {
    EnvironmentChanges env = node_environment();
    env["NUCLEO_NODE_ID"] = id;
    if (!node_port) {
      node_port = free_port();
      ports.push_back(node_port);
    }
    env["NUCLEO_HTTP_PORT"] = std::to_string(node_port);
    env["NUCLEO_HTTP_PUBLIC_URL"] = "http://127.0.0.1:" + std::to_string(node_port);
    std::vector<std::string> argv{NUCLEO_BINARY, "serve"};
    for (auto& a : server_arguments()) argv.push_back(a);
    auto node = std::make_unique<ChildProcess>(argv, env, dir.path());
    for (int i = 0; i < 600 && !node->listens_on(node_port); ++i) {
      if (!node->running()) {
        ADD_FAILURE() << id << " exited: " << node->stderr_so_far();
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    return node;
  }

  HttpResponse through_haproxy(const std::string& method, const std::string& path,
                               std::map<std::string, std::string> headers = {}, const std::string& body = "") {
    headers["Authorization"] = "Bearer " + admin;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return http_request(haproxy->port(), method, path, headers, body);
  }

  int count(const std::string& sql) { return h->count(sql); }

  const std::chrono::milliseconds lease{2000};
  TempDir config_dir;
  std::unique_ptr<PostgresServer> replica;
  std::unique_ptr<TestPgBouncer> pooler;
  std::vector<unsigned short> ports;               // node-1, node-2, node-3
  std::vector<std::unique_ptr<ChildProcess>> nodes;  // node-2, node-3 (node-1 is `server`)
  std::unique_ptr<TestHaproxy> haproxy;
  HttpRecorder receiver;
};

// What a careful client does: one Idempotency-Key per write, retried until answered.
struct Acknowledged {
  std::string key, id, position;
};

TEST_P(Cluster, NoAcknowledgedWriteIsLostWhenANodeIsKilledAndAnotherRestarted) {
  ASSERT_EQ(through_haproxy("POST", "/v1/webhooks", {},
                            Json{{"url", receiver.url("/hook")}, {"events", {"account.created"}}}.dump())
                .status,
            201);
  // HAProxy spreads requests: more than one node answers /readyz, each naming itself.
  std::set<std::string> answered_by;
  for (int i = 0; i < 12; ++i) {
    auto ready = http_request(haproxy->port(), "GET", "/readyz");
    if (ready.status == 200) answered_by.insert(Json::parse(ready.body)["node"]["id"].get<std::string>());
  }
  EXPECT_GE(answered_by.size(), 2u) << haproxy->log();

  std::mutex mutex;
  std::vector<Acknowledged> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> retried{0}, stale_reads{0};
  auto client = [&](int c) {
    for (int i = 0; !stop; ++i) {
      std::string key = "cluster-" + std::to_string(c) + "-" + std::to_string(i);
      std::string body = Json{{"legal_name", "Cluster " + key}}.dump();
      for (int attempt = 0; attempt < 100; ++attempt) {
        HttpResponse r;
        try {
          r = through_haproxy("POST", "/v1/accounts", {{"Idempotency-Key", key}}, body);
        } catch (const std::exception&) {
          r.status = 0;  // the connection broke: the node died under it
        }
        if (r.status == 201) {
          Acknowledged a{key, Json::parse(r.body)["id"], header_of(r, "Nucleo-Write-Position")};
          // Read-your-writes from whichever node answers: a search by name, which may be
          // read from the replica, with the write's position carried back.
          auto found = through_haproxy(
              "POST", "/v1/accounts/search", {{"Nucleo-Read-After", a.position}},
              Json{{"filter_groups", {{{"filters", {{{"field", "legal_name"}, {"op", "eq"}, {"value", "Cluster " + key}}}}}}}}
                  .dump());
          if (found.status == 200 && found.body.find(a.id) == std::string::npos) ++stale_reads;
          through_haproxy("GET", "/v1/accounts?limit=5");  // a read that may lag, without a position
          std::lock_guard lock(mutex);
          acknowledged.push_back(a);
          break;
        }
        ++retried;
        std::this_thread::sleep_for(50ms);
      }
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) clients.emplace_back(client, c);

  std::this_thread::sleep_for(1500ms);
  nodes[0]->signal(SIGKILL);  // node-2 dies holding whatever it held
  auto killed_at = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1500ms);
  nodes[1]->signal(SIGTERM);  // node-3 is restarted: drained, its leases handed back
  auto stopped = nodes[1]->wait(30s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  nodes[1] = start_node("node-3", ports[2]);
  std::this_thread::sleep_for(2000ms);
  stop = true;
  for (auto& t : clients) t.join();
  nodes[0]->wait(5s);

  // No acknowledged write lost, none applied twice.
  ASSERT_GT(acknowledged.size(), 20u) << haproxy->log();
  for (const auto& a : acknowledged) {
    EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE id = '" + a.id + "'"), 1) << a.key;
    EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE legal_name = 'Cluster " + a.key + "'"), 1) << a.key;
    EXPECT_FALSE(a.position.empty()) << "a write through the cluster answers its WAL position";
  }
  EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE legal_name LIKE 'Cluster %'"),
            static_cast<int>(acknowledged.size()));
  EXPECT_EQ(stale_reads, 0) << "a client did not read its own write";
  // …while searches did go to the replica (the nodes still up count theirs).
  double replica_reads = 0;
  for (unsigned short p : {ports[0], ports[2]}) {
    std::string text = http_request(p, "GET", "/metrics").body;
    auto at = text.find("\nnucleo_db_replica_reads_total{");
    if (at == std::string::npos) continue;
    auto end = text.find('\n', at + 1);
    replica_reads += std::stod(text.substr(text.rfind(' ', end) + 1));
  }
  EXPECT_GT(replica_reads, 0) << "no read went to the replica";

  // Every write audited, sequenced by the nodes still running, the log verifying.
  for (int i = 0; i < 300 && count("SELECT count(*) FROM audit_pending") > 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(count("SELECT count(*) FROM audit_pending"), 0);
  for (const auto& a : acknowledged)
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE entity_id = '" + a.id + "' AND action = 'account.created'"), 1)
        << a.id;
  EnvironmentChanges cli = node_environment();
  auto exported = run_process({NUCLEO_BINARY, "audit", "export", "--tenant", h->tenant, "--out", dir.path() + "/log"},
                              cli, 120s, dir.path());
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto verified = run_process({NUCLEO_BINARY, "audit", "verify", dir.path() + "/log"}, cli, 120s, dir.path());
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(verified.out.rfind("PASS", 0), 0u) << verified.out;

  // Every account's webhook delivered, also those node-2 was dispatching when it died:
  // its subscriber lease and job leases ran out, and the others took over.
  std::set<std::string> expected;
  for (const auto& a : acknowledged) expected.insert(a.id);
  auto delivered = [&](const std::vector<RecordedRequest>& requests) {
    std::set<std::string> seen;
    for (const auto& r : requests) seen.insert(Json::parse(r.body)["entity"]["id"].get<std::string>());
    return seen;
  };
  auto requests = receiver.wait_for([&](const auto& r) { return delivered(r).size() >= expected.size(); }, 60s);
  EXPECT_EQ(delivered(requests), expected);
  auto after_kill = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - killed_at);
  // The bound: the leases (2 s), the outbox hole a cut write leaves (3 s), the load left.
  EXPECT_LT(after_kill.count(), 25) << "deliveries took long after the kill; node-1:\n"
                                    << server->stderr_so_far() << "\nnode-3:\n" << nodes[1]->stderr_so_far();
  std::cerr << acknowledged.size() << " writes acknowledged, " << retried << " attempts retried, "
            << requests.size() << " webhook deliveries for " << expected.size() << " accounts\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, Cluster, testing::Values(store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
