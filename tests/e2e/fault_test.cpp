// Issue #26: the server stays correct whatever the database does — a statement that
// fails, connections that drop, a transaction pooler between the node and PostgreSQL.
// No crash, 503 for outages, and an Idempotency-Key that holds: a request retried with
// its key is applied once, whatever happened to the attempt before.
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <atomic>
#include <functional>
#include <thread>

#include "kernel/store/connection_pool.hpp"
#include "tests/e2e/api_fixture.hpp"
#include "tests/support/pgbouncer.hpp"
#include "tests/support/postgres_server.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

// "postgresql:host=…" → "host=…"
std::string libpq(const std::string& url) {
  return url.substr(url.find(':') + 1);
}

class Faults : public ApiFixture {
 protected:
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_LIMITS_RATE_PER_SECOND", "100000"}, {"NUCLEO_LIMITS_RATE_BURST", "100000"}};
  }

  HttpResponse create_account(const std::string& name, const std::string& idempotency_key) {
    return http_request(port, "POST", "/v1/accounts",
                        {{"Authorization", "Bearer " + admin},
                         {"Content-Type", "application/json"},
                         {"Idempotency-Key", idempotency_key}},
                        Json{{"legal_name", name}}.dump());
  }

  // Counted on a connection of its own: the tests below drop the pooled ones.
  int count(const std::string& sql) {
    soci::session session;
    if (GetParam() == store::Backend::postgresql)
      session.open(soci::postgresql, libpq(h->db.superuser_url));
    else
      store::open_session(session, h->db.owner());
    int n = 0;
    session << sql, soci::into(n);
    return n;
  }
  int accounts_named(const std::string& name) {
    return count("SELECT count(*) FROM accounts WHERE legal_name = '" + name + "'");
  }

  // As the schema's owner, who may add triggers to its tables.
  void as_owner(const std::string& sql) {
    soci::session owner;
    store::open_session(owner, h->db.owner());
    owner << sql;
  }
};

// The work succeeds, then remembering its answer fails (a statement error injected by a
// trigger): nothing of the attempt may stay, so the retry with the same key creates the
// record — once. Before issue #26 the work committed on its own and the key was
// released: the retry created a second account.
TEST_P(Faults, AnAttemptThatFailsAfterItsWorkIsAppliedOnceWhenRetried) {
  const std::string name = "Uma Vez Ltda";
  if (GetParam() == store::Backend::postgresql) {
    as_owner("CREATE FUNCTION refuse_doomed_answer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
             " IF NEW.idempotency_key = 'doomed' AND NEW.state = 'done' THEN RAISE EXCEPTION 'injected fault'; END IF;"
             " RETURN NEW; END $$");
    as_owner("CREATE TRIGGER refuse_doomed_answer BEFORE UPDATE ON idempotency_records FOR EACH ROW"
             " EXECUTE FUNCTION refuse_doomed_answer()");
  } else {
    as_owner("CREATE TRIGGER refuse_doomed_answer BEFORE UPDATE ON idempotency_records"
             " WHEN NEW.idempotency_key = 'doomed' AND NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
  }
  auto failed = create_account(name, "doomed");
  EXPECT_GE(failed.status, 409) << failed.body;
  EXPECT_EQ(accounts_named(name), 0) << "the failed attempt left its work behind";

  as_owner("DROP TRIGGER refuse_doomed_answer" + std::string(GetParam() == store::Backend::postgresql
                                                                  ? " ON idempotency_records"
                                                                  : ""));
  auto retried = create_account(name, "doomed");
  ASSERT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(retried.header("Idempotent-Replayed"), "");
  auto replayed = create_account(name, "doomed");
  EXPECT_EQ(replayed.status, 201);
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(Json::parse(replayed.body)["id"], Json::parse(retried.body)["id"]);
  EXPECT_EQ(accounts_named(name), 1);
}

// Clients that time out and retry at once send the same key concurrently: one record.
TEST_P(Faults, ConcurrentRequestsWithOneKeyCreateOneRecord) {
  const std::string name = "Juntos Sociedade Anonima";
  std::vector<int> statuses(8);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < statuses.size(); ++i)
    clients.emplace_back([&, i] { statuses[i] = create_account(name, "together").status; });
  for (auto& c : clients) c.join();
  int created = 0;
  for (int status : statuses) {
    EXPECT_TRUE(status == 201 || status == 409) << status;  // 409: "still in progress"
    created += status == 201;
  }
  EXPECT_GE(created, 1);
  EXPECT_EQ(accounts_named(name), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Faults, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

// A node under load and a node stopping (SQLite: the test holds the database's write
// lock, as another process's long transaction would, so a write waits in its handler).
class Stopping : public Faults {
 protected:
  EnvironmentChanges server_environment() override {
    auto env = Faults::server_environment();
    env["NUCLEO_HTTP_MAX_THREADS"] = "1";
    env["NUCLEO_HTTP_MAX_QUEUED"] = "1";
    env["NUCLEO_HTTP_DRAIN_WINDOW_MS"] = "1000";
    return env;
  }
  struct WriteLock {
    soci::session session;
    explicit WriteLock(const store::DatabaseUrl& url) {
      store::open_session(session, url);
      session << "BEGIN IMMEDIATE";
    }
    void release() { session << "ROLLBACK"; }
  };
};

// Issue #26: /readyz ran in the request pool, so under load a load balancer's check
// timed out and took the only node out. Here the one worker waits on a write and one
// request is queued behind it: health and readiness are answered before either.
TEST_P(Stopping, HealthChecksAreAnsweredWhileEveryWorkerIsBusy) {
  WriteLock lock(h->db.owner());
  std::atomic<int> finished{0};
  std::thread writer([&] {
    create_account("Espera Ltda", "wait-1");
    ++finished;
  });
  std::this_thread::sleep_for(300ms);
  std::thread queued([&] {
    create_account("Fila Ltda", "wait-2");
    ++finished;
  });
  std::this_thread::sleep_for(300ms);
  auto ready = http_request(port, "GET", "/readyz");
  auto health = http_request(port, "GET", "/healthz");
  EXPECT_EQ(finished.load(), 0) << "the writes were not waiting: the check proves nothing";
  lock.release();
  writer.join();
  queued.join();
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(accounts_named("Espera Ltda") + accounts_named("Fila Ltda"), 2);
}

// Issue #26: a SIGTERM dropped requests under way (the client saw an empty reply while
// its row was written). Now /readyz says 503 for http.drain_window_ms while requests
// are still served, and the request under way is answered before the node exits.
TEST_P(Stopping, ARequestUnderWayWhenTheNodeStopsIsAnswered) {
  WriteLock lock(h->db.owner());
  std::atomic<int> status{0};
  std::thread writer([&] { status = create_account("Em Voo Ltda", "stop-1").status; });
  std::this_thread::sleep_for(300ms);
  server->signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 503);
  lock.release();
  writer.join();
  EXPECT_EQ(status.load(), 201);
  EXPECT_EQ(accounts_named("Em Voo Ltda"), 1);
  auto stopped = server->wait(30s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  server.reset();  // stopped on purpose: TearDown has nothing to stop
}

INSTANTIATE_TEST_SUITE_P(Backends, Stopping, testing::Values(store::Backend::sqlite), BackendName());

// PostgreSQL drops the node's connections (a failover, an operator's
// pg_terminate_backend) again and again while clients write with Idempotency-Keys and
// retry what did not answer 201: the node never crashes, answers an outage with 503
// and Retry-After (never 401 or 500), and every request is applied exactly once.
class DroppedConnections : public Faults {};

TEST_P(DroppedConnections, NeverCrashTheNodeNorApplyARequestTwice) {
  std::atomic<bool> done{false};
  std::atomic<int> terminated{0};
  std::thread dropper([&] {
    soci::session superuser(soci::postgresql, libpq(h->db.superuser_url));
    while (!done) {
      int n = 0;
      superuser << "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
                   " AND usename IN ('nucleo_app', 'nucleo_worker')",
          soci::into(n);
      terminated += n;
      std::this_thread::sleep_for(150ms);
    }
  });
  std::map<int, int> answers;
  const int requests = 40;
  for (int i = 0; i < requests; ++i) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r = create_account("Queda " + std::to_string(i), "drop-" + std::to_string(i));
      ++answers[r.status];
      if (r.status == 503) {
        EXPECT_FALSE(r.header("Retry-After").empty());
      }
      if (r.status == 201) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  done = true;
  dropper.join();
  EXPECT_GT(terminated.load(), 10);
  for (const auto& [status, count] : answers) std::printf("  %d answers %d\n", count, status);
  for (const auto& [status, count] : answers) {
    EXPECT_TRUE(status == 201 || status == 503 || status == 409) << count << " answers " << status;
  }
  ASSERT_TRUE(server->running()) << server->stderr_so_far();
  for (int i = 0; i < requests; ++i) EXPECT_EQ(accounts_named("Queda " + std::to_string(i)), 1) << i;
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, DroppedConnections, testing::Values(store::Backend::postgresql), BackendName());

// Through PgBouncer in transaction mode, two server sessions shared by every node
// connection: with store.prepared_statements = false, concurrent writes and reads are
// all answered, none twice. (With prepared statements on, the same load ran another
// session's statements: "prepared statement "st_N" does not exist", wrong results.)
class ThroughTransactionPooler : public Faults {
 protected:
  EnvironmentChanges server_environment() override {
    if (!pooler) pooler = std::make_unique<TestPgBouncer>(PostgresServer::shared().port(), "transaction", 2);
    auto env = Faults::server_environment();
    env["NUCLEO_STORE_URL"] = pooler->through(h->db.app_url);
    env["NUCLEO_STORE_WORKER_URL"] = pooler->through(h->db.worker_url);
    env["NUCLEO_STORE_PREPARED_STATEMENTS"] = "false";
    return env;
  }
  std::unique_ptr<TestPgBouncer> pooler;
};

TEST_P(ThroughTransactionPooler, EveryRequestIsAnsweredOnceWithoutPreparedStatements) {
  const int clients = 4, each = 30;
  std::vector<std::map<int, int>> answers(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      for (int i = 0; i < each; ++i) {
        std::string name = "Pool " + std::to_string(c) + "-" + std::to_string(i);
        auto created = create_account(name, "pool-" + std::to_string(c) + "-" + std::to_string(i));
        ++answers[c][created.status];
        if (created.status != 201) continue;
        std::string id = Json::parse(created.body)["id"];
        auto read = http_request(port, "GET", "/v1/accounts/" + id, {{"Authorization", "Bearer " + admin}});
        ++answers[c][read.status];
        if (read.status == 200) {
          EXPECT_EQ(Json::parse(read.body)["legal_name"], name);
        }
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& per_client : answers) {
    for (const auto& [status, count] : per_client) {
      EXPECT_TRUE(status == 200 || status == 201) << count << " answers " << status << "\n" << pooler->log();
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE legal_name LIKE 'Pool %'"), clients * each);
  ASSERT_TRUE(server->running()) << server->stderr_so_far();
}

INSTANTIATE_TEST_SUITE_P(Backends, ThroughTransactionPooler, testing::Values(store::Backend::postgresql), BackendName());

// Issue #35 (ADR 0048): a node with a streaming replica of the test server. Lists read
// from the replica while it is fresh; a client that wrote reads its write by sending its
// Nucleo-Write-Position back; a replica that stops replaying is skipped past the bound.
class WithAReadReplica : public Faults {
 protected:
  EnvironmentChanges server_environment() override {
    if (!replica) replica = PostgresServer::shared().start_replica();  // after the harness made the database
    auto env = Faults::server_environment();
    std::string database = libpq(h->db.app_url).substr(libpq(h->db.app_url).find("dbname=") + 7);
    env["NUCLEO_STORE_REPLICA_URLS"] = "postgresql:" + replica->url_for("nucleo_app", database);
    env["NUCLEO_STORE_REPLICA_MAX_LAG_MS"] = "500";
    env["NUCLEO_STORE_REPLICA_CHECK_MS"] = "100";
    env["NUCLEO_LOG_LEVEL"] = "information";
    return env;
  }
  void TearDown() override {
    Faults::TearDown();
    replica.reset();
  }

  double metric(const std::string& name) {
    std::string text = http_request(port, "GET", "/metrics").body;
    auto at = text.find("\n" + name + "{");
    if (at == std::string::npos) return -1;
    auto end = text.find('\n', at + 1);
    return std::stod(text.substr(text.rfind(' ', end) + 1, end - text.rfind(' ', end) - 1));
  }
  bool wait_for(const std::function<bool()>& condition) {
    for (int i = 0; i < 200; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  HttpResponse list_accounts(const std::string& read_after = "") {
    std::map<std::string, std::string> headers{{"Authorization", "Bearer " + admin}};
    if (!read_after.empty()) headers["Nucleo-Read-After"] = read_after;
    return http_request(port, "GET", "/v1/accounts?limit=200", headers);
  }
  static bool lists(const HttpResponse& page, const std::string& id) {
    return page.body.find(id) != std::string::npos;
  }

  std::unique_ptr<PostgresServer> replica;
};

TEST_P(WithAReadReplica, ListsReadTheReplicaAndAWriterReadsItsWrite) {
  ASSERT_TRUE(wait_for([&] { return metric("nucleo_db_replica_usable") == 1; })) << server->stderr_so_far();
  auto created = create_account("Cooperativa Réplica", "replica-1");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string position = created.header("Nucleo-Write-Position");
  ASSERT_FALSE(position.empty()) << "a write answers the primary's WAL position";
  std::string id = Json::parse(created.body)["id"];
  // Carried back, the position makes the list hold the write, wherever it is read.
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(lists(list_accounts(position), id)) << "read " << i;
  // Lists read the replica once it has replayed the write.
  double before = metric("nucleo_db_replica_reads_total");
  ASSERT_TRUE(wait_for([&] { return lists(list_accounts(), id); }));
  EXPECT_GT(metric("nucleo_db_replica_reads_total"), before);
  // A reader of one record, and a malformed position, never touch the replica.
  EXPECT_EQ(http_request(port, "GET", "/v1/accounts/" + id, {{"Authorization", "Bearer " + admin}}).status, 200);
  auto bad = list_accounts("yesterday");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("Nucleo-Read-After"), std::string::npos) << bad.body;
}

TEST_P(WithAReadReplica, AReplicaThatLagsBeyondTheBoundIsSkipped) {
  ASSERT_TRUE(wait_for([&] { return metric("nucleo_db_replica_usable") == 1; })) << server->stderr_so_far();
  {
    soci::session superuser(soci::postgresql, replica->url_for("postgres", "postgres"));
    superuser << "SELECT pg_wal_replay_pause()";
  }
  auto created = create_account("Gravada Durante o Atraso", "replica-2");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Json::parse(created.body)["id"];
  // Writes go on (the audit sequencer's too); past the bound the replica is skipped and
  // lists — without any position — read the primary, which has the account.
  ASSERT_TRUE(wait_for([&] { return metric("nucleo_db_replica_usable") == 0; })) << server->stderr_so_far();
  EXPECT_NE(server->stderr_so_far().find("skipped — more than 500 ms behind the primary"), std::string::npos)
      << server->stderr_so_far();
  double reads = metric("nucleo_db_replica_reads_total");
  EXPECT_TRUE(lists(list_accounts(), id));
  EXPECT_EQ(metric("nucleo_db_replica_reads_total"), reads);
  {
    soci::session superuser(soci::postgresql, replica->url_for("postgres", "postgres"));
    superuser << "SELECT pg_wal_replay_resume()";
  }
  EXPECT_TRUE(wait_for([&] { return metric("nucleo_db_replica_usable") == 1; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, WithAReadReplica, testing::Values(store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
