#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace nucleo::test {

// URLs of one fresh database on the test server, one per PostgreSQL role.
struct PostgresDatabase {
  std::string name;
  std::string owner_url;      // nucleo_owner: owns the schema, runs migrations
  std::string app_url;        // nucleo_app: request traffic, under row-level security
  std::string worker_url;     // nucleo_worker: BYPASSRLS background work
  std::string superuser_url;  // postgres: test set-up only
};

// A throwaway PostgreSQL 15 server for the tests of one process (docs/architecture.md §11): initdb
// in a temp folder owned by the `postgres` system user (PostgreSQL refuses to run as
// root), a private port on 127.0.0.1 and a private socket directory, the three
// Nucleo roles created, and everything stopped and removed at process exit.
//
// When the server cannot be started, shared() throws: PostgreSQL tests then fail,
// they never skip.
class PostgresServer {
 public:
  static PostgresServer& shared();
  // A server of one's own (a test of replication: its replica needs a primary to itself).
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A streaming replica of this server (pg_basebackup -R), hot standby on its own port:
  // the same roles and databases, read-only, replaying this server's WAL.
  std::unique_ptr<PostgresServer> start_replica() const;
  // Stops it now (immediate): a replica that goes away.
  void stop();

  // A new empty database owned by nucleo_owner.
  PostgresDatabase create_database();
  unsigned short port() const { return port_; }
  std::string url_for(const std::string& role, const std::string& database) const;

 private:
  struct ReplicaOf {
    const PostgresServer* primary;
  };
  explicit PostgresServer(ReplicaOf of);
  void start(const PostgresServer* primary);
  void create_roles();
  void shutdown();
  std::string as_postgres_user(const std::string& command) const;

  std::string root_;  // temp folder: data/, socket dir, server.log
  unsigned short port_ = 0;
  bool running_ = false;
  int databases_created_ = 0;
  std::mutex mutex_;
};

// What the one door forbids (docs/architecture.md, "One door for writes"): every
// transaction of the application roles that wrote business data — any table but the
// audit, event, job and idempotency bookkeeping — also recorded an audit event and a
// domain event. Lists the offending table writes of the database at `superuser_url`
// ("UPDATE channel_messages as nucleo_worker in 2 transaction(s) …"), empty when none.
std::string unaudited_writes(const std::string& superuser_url);

}  // namespace nucleo::test
