#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "kernel/store/database.hpp"
#include "kernel/store/migrations.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::store {
namespace {

using namespace std::chrono_literals;

TEST(Sqlite, SessionsUseWalAndABusyTimeout) {
  auto db = test::make_test_database(Backend::sqlite);
  soci::session s;
  open_session(s, db.app());
  std::string mode;
  int timeout = 0, foreign_keys = 0;
  s << "PRAGMA journal_mode", soci::into(mode);
  s << "PRAGMA busy_timeout", soci::into(timeout);
  s << "PRAGMA foreign_keys", soci::into(foreign_keys);
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ(timeout, 5000);
  EXPECT_EQ(foreign_keys, 1);
}

TEST(Sqlite, CreatesTheDatabaseDirectory) {
  test::TempDir dir;
  soci::session s;
  open_session(s, parse_database_url("sqlite:" + dir.path() + "/var/deeper/nucleo.db"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/var/deeper/nucleo.db"));
}

// Write transactions take the write lock at BEGIN (BEGIN IMMEDIATE): a second writer
// waits at its BEGIN until the first commits, instead of reading first and failing
// with SQLITE_BUSY on its first write.
TEST(Sqlite, SecondWriterWaitsAtBeginUntilTheFirstCommits) {
  auto db = test::make_test_database(Backend::sqlite);
  Database store(db.app(), 2, 5s);
  auto first_lease = store.lease();
  auto first = std::make_unique<Transaction>(first_lease.session(), Backend::sqlite, TxMode::write, "");

  std::atomic<bool> second_began{false};
  std::thread second([&] {
    auto lease = store.lease();
    Transaction tx(lease.session(), Backend::sqlite, TxMode::write, "");
    second_began = true;
    tx.commit();
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(second_began) << "the second writer began while the first held the write lock";
  first->commit();
  second.join();
  EXPECT_TRUE(second_began);
}

TEST(Sqlite, ReadersAreNotBlockedByAWriter) {
  auto db = test::make_test_database(Backend::sqlite);
  {
    soci::session owner;
    open_session(owner, db.owner());
    SystemClock clock;
    migrate(owner, Backend::sqlite, clock);
  }
  Database store(db.app(), 2, 5s);
  auto writer_lease = store.lease();
  Transaction writer(writer_lease.session(), Backend::sqlite, TxMode::write, "");
  writer.session() << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('ten_x', 'X', 1, 1)";
  int visible = store.read("", [](Transaction& tx) {
    int n = 0;
    tx.session() << "SELECT count(*) FROM tenants", soci::into(n);
    return n;
  });
  EXPECT_EQ(visible, 0);  // WAL: the reader sees the last committed state, without waiting
  writer.commit();
}

}  // namespace
}  // namespace nucleo::store
