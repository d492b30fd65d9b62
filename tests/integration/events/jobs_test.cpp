// The job queue on both backends (docs/architecture.md §8): recurring jobs per tenant and global,
// one-off jobs, retries with back-off then dead, leases that expire when a node dies,
// and several workers sharing the queue without running a job twice.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/services/tenant_service.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::test {
namespace {

using events::JobQueue;
using events::JobScope;
using events::JobSettings;
using events::Schedule;

constexpr std::int64_t second = 1'000'000;

class JobsTest : public testing::TestWithParam<store::Backend> {
 protected:
  JobsTest() : h(GetParam()) {}

  store::Database& worker() { return h.deps().worker_database; }
  JobSettings settings() {
    JobSettings s;
    s.max_attempts = 3;
    s.first_retry = std::chrono::milliseconds(1000);
    s.lease = std::chrono::milliseconds(60000);
    return s;
  }
  std::size_t drain(JobQueue& q) {
    std::size_t n = 0;
    while (std::size_t ran = q.run_once()) n += ran;
    return n;
  }
  Timestamp now() const { return h.clock.now(); }

  ServiceHarness h;
};

TEST_P(JobsTest, RecurringJobsRunOncePerTenantOrOnceGloballyOnSchedule) {
  std::string other = h.create_tenant("Other");
  JobQueue q(worker(), h.clock, settings(), "node-a");
  std::vector<Json> per_tenant, global;
  q.add({"digest", Schedule::parse("every 1m"), JobScope::tenant, [&](const Json& j) {
           per_tenant.push_back(j);
           return std::string();
         }});
  q.add({"cleanup", Schedule::parse("every 1h"), JobScope::global, [&](const Json& j) {
           global.push_back(j);
           return std::string();
         }});
  EXPECT_EQ(drain(q), 0u);  // the first runs are a period away
  h.clock.advance_micros(61 * second);
  EXPECT_EQ(drain(q), 2u);
  std::set<std::string> tenants;
  for (const auto& j : per_tenant) tenants.insert(j["tenant_id"]);
  EXPECT_EQ(tenants, (std::set<std::string>{h.tenant, other}));
  EXPECT_TRUE(global.empty());
  EXPECT_EQ(drain(q), 0u);  // not again until the next minute
  h.clock.advance_micros(3600 * second);
  EXPECT_EQ(drain(q), 3u);  // one missed-minutes catch-up per tenant, not 60, and the hourly one
  ASSERT_EQ(global.size(), 1u);
  EXPECT_TRUE(global[0]["tenant_id"].is_null());
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE schedule IS NOT NULL"), 3);
}

TEST_P(JobsTest, ATenantAddedLaterGetsItsRecurringRows) {
  JobQueue q(worker(), h.clock, settings(), "node-a");
  q.add({"digest", Schedule::parse("every 1m"), JobScope::tenant, [](const Json&) { return std::string(); }});
  q.run_once();
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 1);
  std::string later = h.create_tenant("Later");
  h.clock.advance_micros(61 * second);  // past jobs.tenant_sync
  q.run_once();
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE tenant_id = '" + later + "'"), 1);
}

// Issue #20: a recurring job on each tenant's own wall clock (ADR 0023). The harness's
// clock starts at 2026-07-01T00:00:00Z.
TEST_P(JobsTest, ATenantZonedJobRunsAtEachTenantsLocalTime) {
  std::string sao_paulo = services::TenantService(h.deps()).create(h.context(""), "SP", "America/Sao_Paulo")["id"];
  std::string lisbon = services::TenantService(h.deps()).create(h.context(""), "PT", "Europe/Lisbon")["id"];
  JobQueue q(worker(), h.clock, settings(), "node-a");
  std::vector<Json> ran;
  events::JobDefinition digest{"digest", Schedule::parse("cron 0 7 * * *"), JobScope::tenant, [&](const Json& j) {
                         ran.push_back(j);
                         return std::string();
                       }};
  digest.time_zone = "tenant";
  q.add(digest);
  EXPECT_EQ(drain(q), 0u);
  auto run_at = [&](const std::string& tenant) {
    return h.count("SELECT count(*) FROM jobs WHERE tenant_id = '" + tenant + "' AND run_at = " +
                   std::to_string(parse_rfc3339(tenant == lisbon ? "2026-07-01T06:00:00Z"      // 07:00 WEST
                                                : tenant == sao_paulo ? "2026-07-01T10:00:00Z"  // 07:00 BRT
                                                                      : "2026-07-01T07:00:00Z")  // no zone: UTC
                                      ->micros));
  };
  EXPECT_EQ(run_at(sao_paulo), 1);
  EXPECT_EQ(run_at(lisbon), 1);
  EXPECT_EQ(run_at(h.tenant), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE schedule LIKE 'cron 0 7 * * * in tenant %'"), 3);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE schedule = 'cron 0 7 * * * in tenant Europe/Lisbon'"), 1);
  h.clock.advance_micros(6 * 3600 * second + second);  // 06:00:01Z: Lisbon's 07:00 has come
  EXPECT_EQ(drain(q), 1u);
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0]["tenant_id"], lisbon);
  EXPECT_THROW(services::TenantService(h.deps()).create(h.context(""), "X", "Mars/Olympus_Mons"), Error);

  // The tenant moves its clock: at the next tenant sync its row follows the new zone.
  services::TenantService tenants(h.deps());
  EXPECT_THROW(tenants.set_time_zone(h.context(""), lisbon, "Mars/Olympus_Mons"), Error);
  EXPECT_THROW(tenants.set_time_zone(h.context(""), "ten_01m80gv6y4eqcsmge90bwbtca7", "UTC"), Error);
  EXPECT_EQ(tenants.set_time_zone(h.context(""), lisbon, "America/Sao_Paulo")["time_zone"], "America/Sao_Paulo");
  h.clock.advance_micros(61 * second);  // past jobs.tenant_sync
  q.run_once();
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE tenant_id = '" + lisbon + "' AND schedule = 'cron 0 7 * * * in"
                    " tenant America/Sao_Paulo' AND run_at = " +
                    std::to_string(parse_rfc3339("2026-07-01T10:00:00Z")->micros)),
            1);
}

TEST_P(JobsTest, OneOffJobsRunOnceWhenDueThenLeave) {
  JobQueue q(worker(), h.clock, settings(), "node-a");
  std::vector<Json> ran;
  q.add({"send", std::nullopt, JobScope::tenant, [&](const Json& j) {
           ran.push_back(j);
           return std::string();
         }});
  std::string now_id = q.enqueue("send", h.tenant, {{"to", "ana@example.com"}}, now());
  q.enqueue("send", h.tenant, {{"to", "later"}}, Timestamp{now().micros + 10 * second});
  EXPECT_TRUE(is_valid_id(now_id, "job"));
  EXPECT_EQ(drain(q), 1u);
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0]["job_id"], now_id);
  EXPECT_EQ(ran[0]["tenant_id"], h.tenant);
  EXPECT_EQ(ran[0]["payload"]["to"], "ana@example.com");
  EXPECT_EQ(ran[0]["attempt"], 1);
  h.clock.advance_micros(10 * second);
  EXPECT_EQ(drain(q), 1u);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);
}

TEST_P(JobsTest, RefusesUnknownJobsAndTenantJobsWithoutATenant) {
  JobQueue q(worker(), h.clock, settings(), "node-a");
  q.add({"send", std::nullopt, JobScope::tenant, [](const Json&) { return std::string(); }});
  try {
    q.enqueue("nope", h.tenant, Json::object(), now());
    FAIL() << "enqueued an unknown job";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  EXPECT_THROW(q.enqueue("send", "", Json::object(), now()), Error);
  EXPECT_THROW(q.add({"send", std::nullopt, JobScope::tenant, [](const Json&) { return std::string(); }}), Error);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);
}

TEST_P(JobsTest, AFailingJobIsRetriedWithBackOffThenDeadOrSkippedToItsNextRun) {
  JobQueue q(worker(), h.clock, settings(), "node-a");
  int one_off = 0, recurring = 0;
  q.add({"flaky", std::nullopt, JobScope::tenant, [&](const Json&) -> std::string {
           ++one_off;
           throw std::runtime_error("smtp unreachable");
         }});
  q.add({"nightly", Schedule::parse("cron 0 3 * * *"), JobScope::global, [&](const Json&) {
           ++recurring;
           return std::string("report store down");
         }});
  q.enqueue("flaky", h.tenant, Json::object(), now());
  EXPECT_EQ(drain(q), 1u);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE attempts = 1 AND last_error = 'smtp unreachable'"), 1);
  h.clock.advance_micros(999'000);
  EXPECT_EQ(drain(q), 0u);  // first retry after 1 s
  h.clock.advance_micros(1000);
  EXPECT_EQ(drain(q), 1u);
  h.clock.advance_micros(2 * second);  // then 2 s
  EXPECT_EQ(drain(q), 1u);
  EXPECT_EQ(one_off, 3);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE dead_at IS NOT NULL AND attempts = 3"), 1);
  h.clock.advance_micros(3600 * second);
  drain(q);
  EXPECT_EQ(one_off, 3);  // dead stays dead

  // The recurring job: three failed attempts, then its next night.
  h.clock.set(*parse_rfc3339("2026-07-02T03:00:00Z"));
  drain(q);
  for (int i = 0; i < 3; ++i) {
    h.clock.advance_micros(10 * second);
    drain(q);
  }
  EXPECT_EQ(recurring, 3);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE schedule IS NOT NULL AND attempts = 0 AND run_at = " +
                    std::to_string(parse_rfc3339("2026-07-03T03:00:00Z")->micros)),
            1);
}

TEST_P(JobsTest, AJobWhoseNodeDiedRunsAgainOnceItsLeaseRunsOut) {
  JobSettings s = settings();
  JobQueue a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::vector<std::string> runs;
  auto record = [&](const std::string& node) {
    return [&runs, node](const Json&) {
      runs.push_back(node);
      return std::string();
    };
  };
  // Node A claims the job and "dies" inside it: while its lease holds, B finds nothing;
  // once it has run out, B runs the job, and A's late result is discarded.
  a.add({"send", std::nullopt, JobScope::tenant, [&](const Json&) {
           runs.push_back("node-a");
           EXPECT_EQ(b.run_once(), 0u);
           h.clock.advance_micros(61 * second);
           EXPECT_EQ(b.run_once(), 1u);
           return std::string("node-a lost its lease");
         }});
  b.add({"send", std::nullopt, JobScope::tenant, record("node-b")});
  a.enqueue("send", h.tenant, Json::object(), now());
  EXPECT_EQ(a.run_once(), 1u);
  EXPECT_EQ(runs, (std::vector<std::string>{"node-a", "node-b"}));
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);  // B's success stands
}

// Issue #35: the lease bounds how long a dead node's jobs wait, not how long a job may
// run — a living node renews the leases of what it runs.
TEST_P(JobsTest, ARenewedLeaseKeepsALongJobWithItsNodePastTheLeaseLength) {
  JobSettings s = settings();  // 60 s leases
  JobQueue a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::vector<std::string> runs;
  a.add({"send", std::nullopt, JobScope::tenant, [&](const Json&) {
           runs.push_back("node-a");
           EXPECT_EQ(a.leases_held(), 1u);
           // Four minutes of work, the lease renewed every 20 s as serve's renewal does.
           for (int i = 0; i < 12; ++i) {
             h.clock.advance_micros(20 * second);
             a.renew_leases();
             EXPECT_EQ(b.run_once(), 0u) << "the job ran twice after " << (i + 1) * 20 << " s";
           }
           return std::string();
         }});
  b.add({"send", std::nullopt, JobScope::tenant, [&](const Json&) {
           runs.push_back("node-b");
           return std::string();
         }});
  a.enqueue("send", h.tenant, Json::object(), now());
  EXPECT_EQ(a.run_once(), 1u);
  EXPECT_EQ(runs, (std::vector<std::string>{"node-a"}));
  EXPECT_EQ(a.leases_held(), 0u);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);  // settled by its token
}

TEST_P(JobsTest, ALeaseThatRanOutIsNotRenewedAndTheLateResultIsDiscarded) {
  JobSettings s = settings();
  JobQueue a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::vector<std::string> runs;
  a.add({"send", std::nullopt, JobScope::tenant, [&](const Json&) {
           runs.push_back("node-a");
           h.clock.advance_micros(61 * second);  // A stalled past its lease…
           EXPECT_EQ(b.run_once(), 1u);          // …B took the job over
           a.renew_leases();                      // and A's renewal does not take it back
           EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);
           return std::string("too late");
         }});
  b.add({"send", std::nullopt, JobScope::tenant, [&](const Json&) {
           runs.push_back("node-b");
           return std::string();
         }});
  a.enqueue("send", h.tenant, Json::object(), now());
  EXPECT_EQ(a.run_once(), 1u);
  EXPECT_EQ(runs, (std::vector<std::string>{"node-a", "node-b"}));
}

TEST_P(JobsTest, ReleasedLeasesAreClaimableAtOnceWithTheirAttemptUncounted) {
  JobSettings s = settings();
  // A, and an earlier process under the same node id that was killed holding a job.
  JobQueue a(worker(), h.clock, s, "node-a"), dead(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::vector<std::string> tokens;  // the lease each run saw on its row
  auto leased_by = [&](const Json& j) {
    worker().write("", [&](store::Transaction& tx) {
      store::query(tx.session(), "SELECT leased_by FROM jobs WHERE id = :p0", {j["job_id"].get<std::string>()},
                   [&](const store::Row& r) { tokens.push_back(store::required_text(r, 0)); });
    });
    return std::string();
  };
  std::vector<int> attempts;
  a.add({"send", std::nullopt, JobScope::tenant, leased_by});
  dead.add({"send", std::nullopt, JobScope::tenant, leased_by});
  b.add({"send", std::nullopt, JobScope::tenant, [&](const Json& j) {
           attempts.push_back(j["attempt"].get<int>());
           return std::string();
         }});
  // Each process learns its batch tokens by running a job.
  a.enqueue("send", h.tenant, Json::object(), now());
  ASSERT_EQ(a.run_once(), 1u);
  dead.enqueue("send", h.tenant, Json::object(), now());
  ASSERT_EQ(dead.run_once(), 1u);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].rfind("node-a#", 0), 0u);
  EXPECT_NE(tokens[0].substr(0, tokens[0].rfind('.')), tokens[1].substr(0, tokens[1].rfind('.')))
      << "two processes under one node id share batch tokens";
  auto hold = [&](const std::string& id, const std::string& token) {
    worker().write("", [&](store::Transaction& tx) {
      store::execute(tx.session(), "UPDATE jobs SET leased_by = :p0, leased_until = :p1, attempts = 1 WHERE id = :p2",
                     {token, now().micros + 60 * second, id});
    });
  };
  // A stops while a row is still under one of its batches' leases (its settlement
  // failed, say); the dead process's row stays with it until its lease runs out.
  std::string mine = a.enqueue("send", h.tenant, Json::object(), now());
  std::string theirs = a.enqueue("send", h.tenant, Json::object(), now());
  hold(mine, tokens[0].substr(0, tokens[0].rfind('.') + 1) + "99");
  hold(theirs, tokens[1]);
  EXPECT_EQ(b.run_once(), 0u);
  a.release_leases();
  EXPECT_EQ(b.run_once(), 1u);
  EXPECT_EQ(attempts, (std::vector<int>{1}));  // the released claim did not count
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE id = '" + theirs + "' AND leased_by = '" + tokens[1] + "'"), 1);
}

TEST_P(JobsTest, WorkersSharingTheQueueRunEachJobExactlyOnce) {
  JobSettings s = settings();
  JobQueue a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::mutex mutex;
  std::map<std::string, int> runs;
  auto run = [&](const Json& j) {
    std::lock_guard lock(mutex);
    ++runs[j["job_id"]];
    return std::string();
  };
  a.add({"send", std::nullopt, JobScope::tenant, run});
  b.add({"send", std::nullopt, JobScope::tenant, run});
  constexpr int jobs = 60;
  for (int i = 0; i < jobs; ++i) a.enqueue("send", h.tenant, {{"i", i}}, now());
  std::size_t by_a = 0, by_b = 0;
  std::thread other([&] { by_b = drain(b); });
  by_a = drain(a);
  other.join();
  EXPECT_EQ(by_a + by_b, static_cast<std::size_t>(jobs));
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(jobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 0);
}

// ADR 0027: one claim takes several due jobs and one transaction records them; once the
// batch has run for its window, the jobs it did not start go back, their attempt uncounted.
TEST_P(JobsTest, ABatchIsClaimedAndSettledTogetherAndHandsBackWhatASlowJobHeldUp) {
  JobSettings s = settings();
  s.batch = 4;
  s.batch_window = std::chrono::milliseconds(1000);
  JobQueue q(worker(), h.clock, s, "node-a");
  std::vector<int> ran;
  q.add({"send", std::nullopt, JobScope::tenant, [&](const Json& j) -> std::string {
           int i = j["payload"]["i"];
           ran.push_back(i);
           if (i == 1) h.clock.advance_micros(2 * second);  // a slow receiver
           if (i == 5) return "mailbox full";
           return "";
         }});
  for (int i = 0; i < 6; ++i) q.enqueue("send", h.tenant, {{"i", i}}, Timestamp{now().micros + i});
  h.clock.advance_micros(10);
  EXPECT_EQ(q.run_once(), 2u);  // 0, then the slow 1: 2 and 3 go back
  EXPECT_EQ(ran, (std::vector<int>{0, 1}));
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 4);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE attempts = 0 AND leased_by IS NULL AND leased_until = 0"), 4);
  EXPECT_EQ(q.run_once(), 4u);  // 2, 3, 4 and the failing 5, in one batch
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs WHERE attempts = 1 AND last_error = 'mailbox full' AND leased_by IS NULL"),
            1);
  EXPECT_EQ(h.count("SELECT count(*) FROM jobs"), 1);
  EXPECT_EQ(q.run_once(), 0u);  // its retry waits
}

INSTANTIATE_TEST_SUITE_P(Backends, JobsTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
