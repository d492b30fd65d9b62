// Read replicas (ADR 0048) on a real PostgreSQL primary and its streaming replica
// (pg_basebackup -R): reads that may lag go to a replica only while it is fresh, a
// replica paused or stopped is skipped, and a client that wrote reads its write.
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <thread>

#include "kernel/store/database.hpp"
#include "kernel/store/replica_set.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/postgres_server.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

// One primary and one replica for the whole suite: base backups take seconds.
struct Cluster {
  PostgresServer primary;
  std::unique_ptr<PostgresServer> replica;
  std::string database = "replicated";
  Cluster() {
    soci::session admin(soci::postgresql, primary.url_for("postgres", "postgres"));
    admin << "CREATE DATABASE replicated OWNER nucleo_owner";
    soci::session owner(soci::postgresql, primary.url_for("nucleo_owner", database));
    owner << "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL)";
    owner << "GRANT SELECT, INSERT ON notes TO nucleo_app";
    replica = primary.start_replica();
  }
  static Cluster& shared() {
    static Cluster cluster;
    return cluster;
  }
};

class Replicas : public testing::Test {
 protected:
  Replicas()
      : cluster(Cluster::shared()),
        primary(store::parse_database_url("postgresql:" + cluster.primary.url_for("nucleo_app", cluster.database)), 2,
                2000ms) {}

  store::ReplicaSet replicas_with(std::chrono::milliseconds max_lag, const PostgresServer& server) {
    store::ReplicaSettings s;
    s.urls = {store::parse_database_url("postgresql:" + server.url_for("nucleo_app", cluster.database))};
    s.max_lag = max_lag;
    s.pool_size = 2;
    return store::ReplicaSet(primary, s);
  }

  // Where a read of this thread lands: "replica" or "primary".
  std::string served_by() {
    return primary.read("", [](store::Transaction& tx) {
      std::string in_recovery;
      store::query(tx.session(), "SELECT pg_is_in_recovery()::text", {},
                   [&](const store::Row& r) { in_recovery = store::required_text(r, 0); });
      return in_recovery == "true" ? std::string("replica") : std::string("primary");
    });
  }

  std::int64_t insert_note(const std::string& body) {
    static std::int64_t next = std::chrono::steady_clock::now().time_since_epoch().count();
    std::int64_t id = ++next;
    primary.write("", [&](store::Transaction& tx) {
      store::execute(tx.session(), "INSERT INTO notes (id, body) VALUES (:p0, :p1)", {id, body});
    });
    return id;
  }

  bool sees(std::int64_t id) {
    return primary.read("", [&](store::Transaction& tx) {
      bool found = false;
      store::query(tx.session(), "SELECT 1 FROM notes WHERE id = :p0", {id}, [&](const store::Row&) { found = true; });
      return found;
    });
  }

  // Checks until the replica takes reads (it replays within milliseconds here).
  void until_usable(store::ReplicaSet& set) {
    for (int i = 0; i < 100; ++i) {
      set.check();
      if (set.status().at(0).usable) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the replica never became usable";
  }

  void replay(bool on) {
    soci::session superuser(soci::postgresql, cluster.replica->url_for("postgres", cluster.database));
    superuser << (on ? "SELECT pg_wal_replay_resume()" : "SELECT pg_wal_replay_pause()");
  }

  Cluster& cluster;
  store::Database primary;
};

TEST(WalPositions, ParseAndFormatAsPostgresqlPrintsThem) {
  EXPECT_EQ(store::parse_wal_position("16/B374D848"), (std::uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(store::parse_wal_position("0/0"), 0u);
  EXPECT_EQ(store::format_wal_position((std::uint64_t{0x16} << 32) | 0xB374D848), "16/B374D848");
  for (const char* bad : {"", "/", "16/", "/B3", "16B374D848", "1/2/3", "G/1", "123456789/1", "1/ 2", "-1/2"})
    EXPECT_FALSE(store::parse_wal_position(bad)) << bad;
}

TEST_F(Replicas, ReadsThatMayLagGoToAFreshReplicaAndEverythingElseToThePrimary) {
  store::ReplicaSet set = replicas_with(5000ms, *cluster.replica);
  primary.read_from(&set);
  {
    store::ReadRouting request(/*may_lag=*/true, 0);
    EXPECT_EQ(served_by(), "primary");  // no check has found the replica fresh yet
  }
  until_usable(set);
  {
    store::ReadRouting request(true, 0);
    EXPECT_EQ(served_by(), "replica");
    store::OnPrimary audited;  // an audited read
    EXPECT_EQ(served_by(), "primary");
  }
  {
    store::ReadRouting request(/*may_lag=*/false, 0);  // a read of one record, say
    EXPECT_EQ(served_by(), "primary");
  }
  EXPECT_EQ(served_by(), "primary");  // outside any request (background work, tools)
  EXPECT_EQ(set.status().at(0).reads, 1u);
  primary.read_from(nullptr);
}

TEST_F(Replicas, AClientReadsItsOwnWriteWhereverItsReadGoes) {
  store::ReplicaSet set = replicas_with(5000ms, *cluster.replica);
  primary.read_from(&set);
  until_usable(set);
  std::uint64_t written = 0;
  std::int64_t id = 0;
  {
    store::ReadRouting request(false, 0);
    id = insert_note("read your writes");
    written = request.written();
  }
  ASSERT_GT(written, 0u) << "a write notes the primary's WAL position";
  {
    store::ReadRouting request(true, written);
    EXPECT_TRUE(sees(id));
    // Until a check sees the replica past the write, the read went to the primary.
    EXPECT_EQ(served_by(), "primary");
  }
  // Once a check has seen the replica replay past it, the replica serves the read — and
  // has the row.
  bool on_replica = false;
  for (int i = 0; i < 100 && !on_replica; ++i) {
    set.check();
    store::ReadRouting request(true, written);
    on_replica = served_by() == "replica";
    if (on_replica) EXPECT_TRUE(sees(id));
    else std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(on_replica) << "the replica never replayed the write";
  primary.read_from(nullptr);
}

TEST_F(Replicas, AReplicaThatStopsReplayingIsSkippedOnceItIsBehindByMoreThanTheBound) {
  store::ReplicaSet set = replicas_with(300ms, *cluster.replica);
  primary.read_from(&set);
  until_usable(set);
  replay(false);
  std::int64_t id = insert_note("written while the replica lags");
  bool skipped = false;
  for (int i = 0; i < 60 && !skipped; ++i) {  // the bound plus a check or two
    std::this_thread::sleep_for(50ms);
    insert_note("more");
    set.check();
    skipped = !set.status().at(0).usable;
  }
  EXPECT_TRUE(skipped) << "a paused replica kept taking reads";
  ASSERT_TRUE(set.status().at(0).staleness_seconds.has_value());
  EXPECT_GT(*set.status().at(0).staleness_seconds, 0.3);
  {
    store::ReadRouting request(true, 0);
    EXPECT_EQ(served_by(), "primary");
    EXPECT_TRUE(sees(id));  // the lagging replica would not have it
  }
  replay(true);
  until_usable(set);
  primary.read_from(nullptr);
}

TEST_F(Replicas, AStandaloneServerIsNeverTakenForAReplica) {
  store::ReplicaSet set = replicas_with(5000ms, cluster.primary);
  primary.read_from(&set);
  set.check();
  set.check();
  EXPECT_FALSE(set.status().at(0).usable);
  store::ReadRouting request(true, 0);
  EXPECT_EQ(served_by(), "primary");
  primary.read_from(nullptr);
}

// Last: the replica does not come back.
TEST_F(Replicas, ZZAReplicaThatGoesAwayIsSkippedAndNothingFails) {
  store::ReplicaSet set = replicas_with(5000ms, *cluster.replica);
  primary.read_from(&set);
  until_usable(set);
  cluster.replica->stop();
  {
    // The read that meets the dead replica fails (it may have gathered part of its
    // rows); the replica is skipped from then on.
    store::ReadRouting request(true, 0);
    EXPECT_THROW(served_by(), Error);
    EXPECT_EQ(served_by(), "primary");
  }
  set.check();  // logs, never throws
  EXPECT_FALSE(set.status().at(0).usable);
  store::ReadRouting request(true, 0);
  EXPECT_EQ(served_by(), "primary");
  primary.read_from(nullptr);
}

}  // namespace
}  // namespace nucleo::test
