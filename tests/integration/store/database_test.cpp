#include "kernel/store/database.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/store/migrations.hpp"
#include "kernel/store/pipeline.hpp"
#include "kernel/store/postgres_work_channel.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::store {
namespace {

using namespace std::chrono_literals;

class DatabaseTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = test::make_test_database(GetParam());
    soci::session owner;
    open_session(owner, db_.owner());
    migrate(owner, GetParam(), clock_);
  }

  // Tenants are created by the worker role (it bypasses RLS on PostgreSQL).
  std::string create_tenant(Database& worker) {
    std::string id = generate_id(id_prefix::tenant, clock_.now());
    worker.write("", [&](Transaction& tx) {
      long long now = clock_.now().micros;
      tx.session() << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:id, 'Acme', :created, :updated)",
          soci::use(id), soci::use(now), soci::use(now);
    });
    return id;
  }

  int count_accounts(Database& db, const std::string& tenant) {
    return db.read(tenant, [&](Transaction& tx) {
      int n = 0;
      query(tx.session(), "SELECT count(*) FROM accounts WHERE tenant_id = :p0", {tenant},
            [&](const Row& r) { n = static_cast<int>(required_integer(r, 0)); });
      return n;
    });
  }

  test::TestDatabase db_;
  SystemClock clock_;
};

TEST_P(DatabaseTest, LeaseTimesOutWithUnavailableWhenThePoolIsExhausted) {
  Database db(db_.app(), 1, 50ms);
  auto held = db.lease();
  try {
    db.lease();
    FAIL() << "a second lease from a pool of one succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(std::string(e.what()).find("50 ms"), std::string::npos);
  }
}

TEST_P(DatabaseTest, LeaseIsReturnedToThePoolWhenReleased) {
  Database db(db_.app(), 1, 50ms);
  { auto lease = db.lease(); }
  EXPECT_NO_THROW(db.lease());
}

TEST_P(DatabaseTest, WaitingLeaseGetsTheSessionWhenItIsGivenBack) {
  Database db(db_.app(), 1, 5s);
  auto held = std::make_unique<ConnectionPool::Lease>(db.lease());
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    held.reset();
  });
  EXPECT_NO_THROW(db.lease());
  releaser.join();
}

TEST_P(DatabaseTest, WorkThatThrowsIsRolledBack) {
  Database worker(db_.worker(), 2, 2s);
  Database app(db_.app(), 2, 2s);
  std::string tenant = create_tenant(worker);
  EXPECT_THROW(app.write(tenant,
                         [&](Transaction& tx) {
                           long long now = 1;
                           std::string id = generate_id(id_prefix::account, clock_.now());
                           tx.session() << "INSERT INTO accounts (id, tenant_id, legal_name, created_at, updated_at)"
                                           " VALUES (:id, :t, 'Half', :created, :updated)",
                               soci::use(id), soci::use(tenant), soci::use(now), soci::use(now);
                           throw Error(ErrorCode::validation, "vetoed after the insert");
                         }),
               Error);
  EXPECT_EQ(count_accounts(app, tenant), 0);
}

// Transaction::append: rows wait for the commit and go as multi-row INSERTs, yet any
// statement of the same transaction that names their table sees them.
TEST_P(DatabaseTest, AppendedRowsAreSeenByTheirTransactionAndKeptOnlyIfItCommits) {
  Database worker(db_.worker(), 2, 2s);
  Database app(db_.app(), 2, 2s);
  std::string tenant = create_tenant(worker);
  auto append = [&](Transaction& tx, int n, const std::string& name) {
    for (int i = 0; i < n; ++i)
      tx.append("accounts", "(id, tenant_id, legal_name, created_at, updated_at)",
                {generate_id(id_prefix::account, clock_.now()), tenant, name + " " + std::to_string(i), std::int64_t{1},
                 std::int64_t{1}});
  };
  auto counted = [&](Transaction& tx) {
    std::int64_t n = 0;
    query(tx.session(), "SELECT count(*) FROM accounts WHERE tenant_id = :p0", {tenant},
          [&](const store::Row& r) { n = store::required_integer(r, 0); });
    return n;
  };
  app.write(tenant, [&](Transaction& tx) {
    append(tx, 100, "Lote");  // 64 + 32 + 4 rows
    EXPECT_EQ(counted(tx), 100) << "a statement naming the table sends the waiting rows first";
    append(tx, 3, "Depois");
    std::int64_t elsewhere = 0;
    query(tx.session(), "SELECT count(*) FROM tenants", {}, [&](const store::Row& r) { elsewhere = store::required_integer(r, 0); });
    EXPECT_GE(elsewhere, 0);
  });
  EXPECT_EQ(count_accounts(app, tenant), 103) << "the three appended after the read went at the commit";

  EXPECT_THROW(app.write(tenant,
                         [&](Transaction& tx) {
                           append(tx, 5, "Desfeito");
                           throw Error(ErrorCode::validation, "vetoed");
                         }),
               Error);
  EXPECT_EQ(count_accounts(app, tenant), 103) << "a rolled back transaction sends nothing";

  // A batch joined into one transaction, and a write nested in it, commit their rows once.
  app.in_one_transaction(tenant, [&] {
    app.in_one_transaction(tenant, [&] { app.write(tenant, [&](Transaction& tx) { append(tx, 2, "Junto"); }); });
    app.write(tenant, [&](Transaction& tx) { append(tx, 2, "Junto depois"); });
  });
  EXPECT_EQ(count_accounts(app, tenant), 107);
  EXPECT_THROW(app.in_one_transaction(tenant,
                                      [&] {
                                        app.in_one_transaction(tenant, [&] {});
                                        app.write(tenant, [&](Transaction& tx) { append(tx, 2, "Sem lote"); });
                                        throw Error(ErrorCode::validation, "the batch fails");
                                      }),
               Error);
  EXPECT_EQ(count_accounts(app, tenant), 107) << "the write after a nested batch was still the outer one's";

  // Back to a savepoint: what was written and appended since is gone, what came before stays.
  app.write(tenant, [&](Transaction& tx) {
    append(tx, 1, "Antes");
    std::size_t kept = tx.savepoint();
    append(tx, 1, "Mantido");
    tx.release(kept);
    std::size_t undone = tx.savepoint();
    append(tx, 3, "Desfeito");
    EXPECT_EQ(counted(tx), 112);
    tx.rollback_to(undone);
    EXPECT_EQ(counted(tx), 109);
    append(tx, 1, "Depois");
  });
  EXPECT_EQ(count_accounts(app, tenant), 110);

  EXPECT_THROW(app.write(tenant,
                         [&](Transaction& tx) {
                           append(tx, 1, "Certo");
                           tx.append("accounts", "(id, tenant_id)", {std::string("acc_x"), tenant});
                         }),
               Error);
  EXPECT_EQ(count_accounts(app, tenant), 110);
}

// A statement takes with it only what it could see or depend on: the referenced rows and
// the rows of the tables it names. Other appended rows (a record's audit event, its domain
// event) wait for the commit, and go there in multi-row INSERTs.
TEST_P(DatabaseTest, AStatementSendsTheReferencedRowsAndTheTablesItNamesOthersWaitForTheCommit) {
  Database worker(db_.worker(), 2, 2s);
  Database app(db_.app(), 2, 2s);
  std::string tenant = create_tenant(worker);
  // Whether the contact points went, asked without naming their table: on PostgreSQL the
  // transaction's own insert counts; on SQLite the rows the last INSERT wrote (the
  // account's alone: 1; the contact points after it: 3).
  auto contact_points_sent = [&](Transaction& tx) {
    std::int64_t n = 0;
    query(tx.session(),
          GetParam() == Backend::postgresql
              ? "SELECT COALESCE(sum(n_tup_ins), 0) FROM pg_stat_xact_user_tables WHERE relname = 'contact_' || 'points'"
              : "SELECT changes()",
          {}, [&](const store::Row& r) { n = store::required_integer(r, 0); });
    return GetParam() == Backend::postgresql ? n > 0 : n != 1;
  };
  std::string account = generate_id(id_prefix::account, clock_.now());
  app.write(tenant, [&](Transaction& tx) {
    tx.append_referenced("accounts", "(id, tenant_id, legal_name, created_at, updated_at)",
                         {account, tenant, std::string("Referida"), std::int64_t{1}, std::int64_t{1}});
    for (const char* value : {"a@example.com", "b@example.com", "c@example.com"})
      tx.append("contact_points", "(tenant_id, entity_type, entity_id, kind, value)",
                {tenant, std::string("account"), account, std::string("email"), std::string(value)});
    EXPECT_FALSE(contact_points_sent(tx)) << "a statement naming neither table took the contact points";
    std::int64_t accounts = 0;
    query(tx.session(), "SELECT count(*) FROM accounts WHERE tenant_id = :p0", {tenant},
          [&](const store::Row& r) { accounts = store::required_integer(r, 0); });
    EXPECT_EQ(accounts, 1) << "the referenced account went before the first statement";
    std::int64_t points = 0;
    query(tx.session(), "SELECT count(*) FROM contact_points WHERE tenant_id = :p0 AND entity_id = :p1", {tenant, account},
          [&](const store::Row& r) { points = store::required_integer(r, 0); });
    EXPECT_EQ(points, 3) << "a statement naming the table sees its waiting rows";
    tx.append("contact_points", "(tenant_id, entity_type, entity_id, kind, value)",
              {tenant, std::string("account"), account, std::string("email"), std::string("d@example.com")});
  });
  std::int64_t points = 0;
  app.read(tenant, [&](Transaction& tx) {
    query(tx.session(), "SELECT count(*) FROM contact_points WHERE tenant_id = :p0 AND entity_id = :p1", {tenant, account},
          [&](const store::Row& r) { points = store::required_integer(r, 0); });
  });
  EXPECT_EQ(points, 4) << "the row appended after the read went at the commit";
  EXPECT_EQ(count_accounts(app, tenant), 1);
}

TEST_P(DatabaseTest, DuplicateKeyIsARetryableAbort) {
  Database worker(db_.worker(), 1, 2s);
  std::string tenant = create_tenant(worker);
  try {
    worker.write("", [&](Transaction& tx) {
      tx.session() << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:id, 'Again', 1, 1)",
          soci::use(tenant);
    });
    FAIL() << "duplicate tenant id accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::aborted) << e.what();
  }
}

TEST_P(DatabaseTest, SqlErrorsBecomeNucleoErrorsAndTheSessionStaysUsable) {
  Database db(db_.app(), 1, 2s);
  EXPECT_THROW(db.read("", [](Transaction& tx) { query(tx.session(), "SELECT * FROM no_such_table", {}, [](const Row&) {}); }),
               Error);
  EXPECT_THROW(db.write("", [](Transaction& tx) { execute(tx.session(), "SELECT * FROM no_such_table", {}); }), Error);
  int one = db.read("", [](Transaction& tx) {
    int v = 0;
    query(tx.session(), "SELECT 1", {}, [&](const Row& r) { v = static_cast<int>(required_integer(r, 0)); });
    return v;
  });
  EXPECT_EQ(one, 1);
}

TEST_P(DatabaseTest, CommittedWorkIsVisibleToOtherSessions) {
  Database worker(db_.worker(), 2, 2s);
  Database app(db_.app(), 2, 2s);
  std::string tenant = create_tenant(worker);
  app.write(tenant, [&](Transaction& tx) {
    long long now = clock_.now().micros;
    std::string id = generate_id(id_prefix::account, clock_.now());
    tx.session() << "INSERT INTO accounts (id, tenant_id, legal_name, created_at, updated_at)"
                    " VALUES (:id, :t, 'Acme Ltda', :created, :updated)",
        soci::use(id), soci::use(tenant), soci::use(now), soci::use(now);
  });
  EXPECT_EQ(count_accounts(app, tenant), 1);
}

TEST_P(DatabaseTest, UnreachableServerFailsFastWithUnavailable) {
  std::string url = GetParam() == Backend::sqlite
                        ? "sqlite:/proc/nucleo-cannot-create/x.db"
                        : "postgresql://nucleo_app@127.0.0.1:" + std::to_string(test::free_port()) + "/nucleo";
  try {
    Database db(parse_database_url(url), 1, 1s);
    FAIL() << "opened " << url;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
  }
}

// ADR 0009: a pooled PostgreSQL session prepares a statement once and reuses it; a
// schema change under it costs at most one failed call, never a stuck statement.
TEST_P(DatabaseTest, PooledSessionsPrepareOnceAndRecoverFromASchemaChange) {
  if (GetParam() != Backend::postgresql) GTEST_SKIP() << "SQLite prepares in-process";
  Database db(db_.app(), 1, 2000ms);
  db.write("", [&](Transaction& tx) { execute(tx.session(), "CREATE TEMP TABLE probe (a integer)", {}); });
  auto columns = [&] {
    return db.read("", [&](Transaction& tx) {
      std::size_t n = 0;
      query(tx.session(), "SELECT * FROM probe", {}, [&](const store::Row& row) { n = row.size(); });
      execute(tx.session(), "SELECT 1 FROM probe WHERE a = :p0", {std::int64_t{7}});
      return n;
    });
  };
  db.write("", [&](Transaction& tx) { execute(tx.session(), "INSERT INTO probe VALUES (1)", {}); });
  EXPECT_EQ(columns(), 1u);
  EXPECT_EQ(columns(), 1u);
  std::int64_t prepared = 0;
  db.read("", [&](Transaction& tx) {
    query(tx.session(), "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT * FROM probe'", {},
          [&](const store::Row& row) { prepared = store::required_integer(row, 0); });
  });
  EXPECT_EQ(prepared, 1);

  db.write("", [&](Transaction& tx) { execute(tx.session(), "ALTER TABLE probe ADD COLUMN b integer", {}); });
  std::size_t seen = 0;
  for (int attempt = 0; attempt < 2 && seen != 2; ++attempt) {
    try {
      seen = columns();
    } catch (const Error&) {
      // "cached plan must not change result type": the statement is dropped and re-prepared.
    }
  }
  EXPECT_EQ(seen, 2u);
}

// ADR 0038: a PostgreSQL read transaction sends each statement pipelined behind the
// tenant and read-only settings, with no BEGIN or COMMIT of its own. It still refuses
// writes, sees only its tenant, and leaves its session usable whatever fails.
TEST_P(DatabaseTest, PipelinedReadsStayReadOnlyFencedAndLeaveTheSessionUsable) {
  if (GetParam() != Backend::postgresql) GTEST_SKIP() << "SQLite reads in a transaction of its own";
  Database worker(db_.worker(), 1, 2s);
  Database app(db_.app(), 1, 2s);
  std::string a = create_tenant(worker), b = create_tenant(worker);
  for (const auto& [tenant, name] : {std::pair{a, "Alpha"}, std::pair{b, "Beta"}})
    app.write(tenant, [&](Transaction& tx) {
      execute(tx.session(),
              "INSERT INTO accounts (id, tenant_id, legal_name, created_at, updated_at) VALUES (:p0, :p1, :p2, 1, 1)",
              {generate_id(id_prefix::account, clock_.now()), tenant, std::string(name)});
    });
  auto names = [&](const std::string& tenant) {
    return app.read(tenant, [&](Transaction& tx) {
      std::vector<std::string> out;
      // No WHERE tenant_id: on PostgreSQL only row-level security keeps the other tenant out.
      query(tx.session(), "SELECT legal_name FROM accounts ORDER BY legal_name", {},
            [&](const Row& r) { out.push_back(required_text(r, 0)); });
      query_once(tx.session(), "SELECT legal_name FROM accounts WHERE legal_name <> :p0", {std::string("-")},
                 [&](const Row& r) { out.push_back(required_text(r, 0)); });
      return out;
    });
  };
  EXPECT_EQ(names(a), (std::vector<std::string>{"Alpha", "Alpha"}));
  EXPECT_EQ(names(b), (std::vector<std::string>{"Beta", "Beta"}));
  // A write inside a read transaction is refused, as BEGIN READ ONLY refused it.
  EXPECT_THROW(app.read(a, [&](Transaction& tx) {
    execute(tx.session(), "UPDATE accounts SET legal_name = 'Changed'", {});
  }), Error);
  // A failed statement, and a reader that throws halfway through the rows, leave the one
  // session of the pool ready for the next read.
  EXPECT_THROW(app.read(a, [&](Transaction& tx) {
    query(tx.session(), "SELECT legal_name FROM accounts WHERE no_such_column = 1", {}, [](const Row&) {});
  }), Error);
  EXPECT_THROW(app.read(a, [&](Transaction& tx) {
    query(tx.session(), "SELECT legal_name FROM accounts", {},
          [](const Row&) { throw Error(ErrorCode::validation, "the reader gave up"); });
  }), Error);
  EXPECT_EQ(count_accounts(app, a), 1);
  // A reader may query again for each row it is handed, as SOCI allowed.
  std::vector<std::string> nested = app.read(a, [&](Transaction& tx) {
    std::vector<std::string> out;
    query(tx.session(), "SELECT id FROM accounts", {}, [&](const Row& r) {
      query(tx.session(), "SELECT legal_name FROM accounts WHERE id = :p0", {required_text(r, 0)},
            [&](const Row& inner) { out.push_back(required_text(inner, 0)); });
    });
    return out;
  });
  EXPECT_EQ(nested, std::vector<std::string>{"Alpha"});
}

// Rows read as the services read them: integers, NULL, and booleans as 1 or 0, alike on
// both backends and both PostgreSQL paths (SOCI in a write, libpq in a pipelined read).
TEST_P(DatabaseTest, RowsReadAlikeWhicheverDriverAnswered) {
  Database db(db_.app(), 1, 2s);
  auto check = [](Transaction& tx) {
    query(tx.session(), "SELECT 42, NULL, 1 = 1, 1 = 2, 'text'", {}, [&](const Row& r) {
      EXPECT_EQ(r.size(), 5u);
      EXPECT_EQ(integer_at(r, 0), 42);
      EXPECT_EQ(text_at(r, 1), std::nullopt);
      EXPECT_EQ(integer_at(r, 2), 1);
      EXPECT_EQ(integer_at(r, 3), 0);
      EXPECT_EQ(text_at(r, 4), "text");
      EXPECT_THROW(text_at(r, 5), Error);
      // The same texts without a copy where the driver holds them (pages render this way).
      std::string scratch;
      EXPECT_EQ(text_view_at(r, 1, scratch), std::nullopt);
      EXPECT_EQ(text_view_at(r, 2, scratch), "1");
      EXPECT_EQ(text_view_at(r, 3, scratch), "0");
      EXPECT_EQ(text_view_at(r, 4, scratch), "text");
      EXPECT_EQ(text_view_at(r, 0, scratch), "42");
      EXPECT_THROW(text_view_at(r, 5, scratch), Error);
    });
  };
  db.read("", check);
  db.write("", check);
}

// ADR 0036: a search's statement is planned with its values on every execution, though a
// read transaction keeps it prepared; every other statement keeps its cached plan, and the
// setting ends with the read.
TEST_P(DatabaseTest, AStatementPlannedEachTimeAsksForACustomPlanOnlyForItself) {
  if (GetParam() != Backend::postgresql) GTEST_SKIP() << "SQLite has no plan cache mode";
  Database db(db_.app(), 1, 2s);
  auto mode = [&](bool planned_each_time) {
    return db.read("", [&](Transaction& tx) {
      std::string out;
      auto read = [&](const Row& r) { out = required_text(r, 0); };
      const std::string sql = "SELECT current_setting('plan_cache_mode') WHERE :p0::bigint = 1";
      for (int i = 0; i < 3; ++i)  // the first use prepares it; the others reuse it
        planned_each_time ? query_once(tx.session(), sql, {std::int64_t{1}}, read)
                          : query(tx.session(), sql, {std::int64_t{1}}, read);
      return out;
    });
  };
  EXPECT_EQ(mode(true), "force_custom_plan");
  EXPECT_EQ(mode(false), "auto");
  EXPECT_EQ(mode(true), "force_custom_plan");
  EXPECT_EQ(db.write("", [&](Transaction& tx) {
    std::string out;
    query(tx.session(), "SELECT current_setting('plan_cache_mode')", {}, [&](const Row& r) { out = required_text(r, 0); });
    return out;
  }), "auto");
}

// A prepared statement the server forgot (a pooler's DISCARD, DEALLOCATE ALL) is prepared
// again by the same call: the reader never sees it.
TEST_P(DatabaseTest, APipelinedReadWhoseStatementTheServerForgotIsPreparedAgain) {
  if (GetParam() != Backend::postgresql) GTEST_SKIP() << "SQLite prepares in-process";
  Database db(db_.app(), 1, 2s);
  auto one = [&] {
    return db.read("", [&](Transaction& tx) {
      std::int64_t v = 0;
      query(tx.session(), "SELECT :p0::bigint + 1", {std::int64_t{41}}, [&](const Row& r) { v = required_integer(r, 0); });
      return v;
    });
  };
  EXPECT_EQ(one(), 42);
  {
    auto lease = db.lease();
    lease.session() << "DEALLOCATE ALL";
  }
  EXPECT_EQ(one(), 42);
  EXPECT_EQ(one(), 42);
}

TEST(NumberedParameters, NumbersEachPlaceholderInOrderAndLeavesQuotesAndCastsAlone) {
  EXPECT_EQ(numbered_parameters("SELECT a FROM t WHERE b = :p0 AND c = :p1"), "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(numbered_parameters("SELECT :x::text, ':not_me', \"a:b\" FROM t WHERE d = :x"),
            "SELECT $1::text, ':not_me', \"a:b\" FROM t WHERE d = $2");
  EXPECT_EQ(numbered_parameters("SELECT 'it''s :no' || :p0"), "SELECT 'it''s :no' || $1");
  EXPECT_EQ(numbered_parameters("SELECT a[1:2] FROM t"), "SELECT a[1:2] FROM t");
}

// ADR 0037: a write that announces background work rings the signal once it has
// committed — not when it rolls back, and not before the rows are visible.
TEST_P(DatabaseTest, CommittedWorkIsAnnouncedAfterTheCommitAndRolledBackWorkIsNot) {
  Database worker(db_.worker(), 2, 2s);
  WorkSignal signal;
  worker.announce_work_to(&signal);
  std::string tenant = create_tenant(worker);
  int visible_when_heard = -1;
  WorkKinds heard = 0;
  auto subscription = signal.subscribe(every_kind, [&](WorkKinds kinds) {
    heard |= kinds;
    // A listener may not call back into the database in `serve`; here it checks that
    // the row it was told of is already there for another session.
    visible_when_heard = worker.read("", [&](Transaction& tx) {
      int n = 0;
      query(tx.session(), "SELECT count(*) FROM jobs", {}, [&](const store::Row& r) { n = static_cast<int>(required_integer(r, 0)); });
      return n;
    });
  });
  auto insert_job = [&](Transaction& tx, const std::string& id) {
    tx.announce(Work::jobs);
    execute(tx.session(), "INSERT INTO jobs (id, name, tenant_id, payload, run_at, created_at) VALUES (:p0, 'x', :p1, '{}', 0, 0)",
            {id, tenant});
  };
  EXPECT_THROW(worker.write("", [&](Transaction& tx) {
    insert_job(tx, "job_rolled_back");
    throw Error(ErrorCode::validation, "changed my mind");
  }), Error);
  EXPECT_EQ(heard, 0u);
  worker.write("", [&](Transaction& tx) { insert_job(tx, "job_committed"); });
  EXPECT_EQ(heard, kind(Work::jobs));
  EXPECT_EQ(visible_when_heard, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, testing::Values(Backend::sqlite, Backend::postgresql),
                         test::BackendName());

// ADR 0037: what one process announces reaches another's loops through NOTIFY, sent
// after the commit from the channel's own connection.
TEST(PostgresWorkChannel, WorkAnnouncedByOneProcessWakesAnother) {
  auto db = test::make_test_database(Backend::postgresql);
  WorkSignal here, there;
  PostgresWorkChannel sender(db.worker(), here, 20ms);
  PostgresWorkChannel receiver(db.worker(), there, 20ms);
  receiver.listen();
  std::mutex mutex;
  std::condition_variable changed;
  WorkKinds heard = 0;
  auto subscription = there.subscribe(kind(Work::outbox), [&](WorkKinds kinds) {
    std::lock_guard lock(mutex);
    heard |= kinds;
    changed.notify_all();
  });
  // The listener wakes every loop once when it starts listening: wait for that first.
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 30s, [&] { return heard != 0; }));
    heard = 0;
  }
  here.raise(kind(Work::outbox));
  std::unique_lock lock(mutex);
  EXPECT_TRUE(changed.wait_for(lock, 30s, [&] { return heard == kind(Work::outbox); }));
}

}  // namespace
}  // namespace nucleo::store
