// The outbox dispatcher on both backends (docs/architecture.md §8): at-least-once delivery in seq
// order, patterns, retries with exponential back-off, dead letters, a lease per
// subscriber shared by nodes, new subscribers starting at the end, the depth limit.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "kernel/events/dispatcher.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::test {
namespace {

using events::Dispatcher;
using events::DispatchSettings;

class DispatcherTest : public testing::TestWithParam<store::Backend> {
 protected:
  DispatcherTest() : h(GetParam()) {}

  std::string contact(const std::string& name) {
    return h.records().create(h.context(h.tenant), "contact", {{"name", name}}).record["id"];
  }
  store::Database& worker() { return h.deps().worker_database; }
  int failures(const std::string& where) { return h.count("SELECT count(*) FROM event_failures WHERE " + where); }

  DispatchSettings settings() {
    DispatchSettings s;
    s.max_attempts = 3;
    s.first_retry = std::chrono::milliseconds(1000);
    return s;
  }

  ServiceHarness h;
};

TEST_P(DispatcherTest, DeliversNewEventsInOrderToMatchingSubscribersOnly) {
  contact("Before the subscriber");  // history is not delivered
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  std::vector<std::string> contacts, all;
  d.add({"contacts", "contact.*", [&](const Json& e) { contacts.push_back(e["entity"]["id"]); return std::string(); }});
  d.add({"everything", "*", [&](const Json& e) { all.push_back(e["name"]); return std::string(); }});
  std::string a = contact("Ana"), b = contact("Bia");
  h.records().create(h.context(h.tenant), "account", {{"legal_name", "Acme"}});
  EXPECT_EQ(d.run_once(), 5u);
  EXPECT_EQ(contacts, (std::vector<std::string>{a, b}));
  EXPECT_EQ(all, (std::vector<std::string>{"contact.created", "contact.created", "account.created"}));
  EXPECT_EQ(d.run_once(), 0u);  // nothing twice
}

// Subscribers at one cursor share a pass's read of the outbox; one at another cursor
// reads its own — each gets exactly its events, in order, once.
TEST_P(DispatcherTest, SubscribersShareAPassReadEachAtItsOwnCursor) {
  DispatchSettings s = settings();
  s.batch = 2;
  Dispatcher d(worker(), h.clock, s, "node-a");
  std::vector<std::string> first, second, late;
  auto into = [](std::vector<std::string>& seen) {
    return [&seen](const Json& e) { return seen.push_back(e["entity"]["id"]), std::string(); };
  };
  d.add({"first", "*", into(first)});
  d.add({"second", "contact.*", into(second)});
  std::string a = contact("Ana"), b = contact("Bia"), c = contact("Caio");
  EXPECT_EQ(d.run_once(), 4u);  // two events (the batch) to each
  d.add({"late", "*", into(late)});  // starts after Caio
  std::string e = contact("Duda");
  EXPECT_EQ(d.run_once(), 5u);  // Caio and Duda to the first two, Duda to the late one
  EXPECT_EQ(first, (std::vector<std::string>{a, b, c, e}));
  EXPECT_EQ(second, first);
  EXPECT_EQ(late, (std::vector<std::string>{e}));
  EXPECT_EQ(d.run_once(), 0u);
}

// A subscriber that takes many events at once gets a pass's matching events in one call
// and answers one outcome each; a failed one is retried on its own, through `deliver`. An
// answer of the wrong length fails every event of the call.
TEST_P(DispatcherTest, ASubscriberTakingManyGetsAPassAtOnceAndItsFailuresRetriedOneByOne) {
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> retried;
  auto one = [&](const Json& e) { return retried.push_back(e["entity"]["id"]), std::string(); };
  d.add({"many", "contact.*", one, [&](const std::vector<Json>& events) {
           std::vector<std::string> ids, errors;
           for (const auto& e : events) {
             ids.push_back(e["entity"]["id"]);
             errors.push_back(ids.size() == 2 ? "the second fails" : "");
           }
           calls.push_back(ids);
           return errors;
         }});
  d.add({"short", "contact.*", [](const Json&) { return std::string(); },
         [](const std::vector<Json>&) { return std::vector<std::string>{}; }});
  std::string a = contact("Ana"), b = contact("Bia");
  h.records().create(h.context(h.tenant), "account", {{"legal_name", "Acme"}});
  std::string c = contact("Caio");
  EXPECT_EQ(d.run_once(), 6u);
  EXPECT_EQ(calls, (std::vector<std::vector<std::string>>{{a, b, c}}));
  EXPECT_EQ(failures("subscriber = 'many'"), 1);
  EXPECT_EQ(failures("subscriber = 'many' AND last_error = 'the second fails'"), 1);
  EXPECT_EQ(failures("subscriber = 'short' AND last_error LIKE '%answered 0 outcomes for 3 events%'"), 3);
  EXPECT_TRUE(retried.empty());
  h.clock.advance_micros(2'000'000);
  EXPECT_EQ(d.run_once(), 4u);
  EXPECT_EQ(retried, (std::vector<std::string>{b}));
  EXPECT_EQ(failures("1 = 1"), 0);
  EXPECT_EQ(calls.size(), 1u);
}

// events.max_attempts counts deliveries, the first included (docs/configuration.md):
// at 1 the first failure is a dead letter; at the default, the eighth.
TEST_P(DispatcherTest, MaxAttemptsCountsEveryDeliveryTheFirstIncluded) {
  for (int max_attempts : {1, DispatchSettings{}.max_attempts}) {
    DispatchSettings s = settings();
    s.max_attempts = max_attempts;
    Dispatcher d(worker(), h.clock, s, "node-" + std::to_string(max_attempts));
    int calls = 0;
    d.add({"broken-" + std::to_string(max_attempts), "contact.created", [&](const Json&) -> std::string {
             ++calls;
             throw std::runtime_error("mailbox unreachable");
           }});
    contact("Ana " + std::to_string(max_attempts));
    for (int run = 0; run < 20; ++run) {
      d.run_once();
      h.clock.advance_micros(24LL * 3600 * 1'000'000);  // past any back-off
    }
    EXPECT_EQ(calls, max_attempts);
    EXPECT_EQ(failures("subscriber = 'broken-" + std::to_string(max_attempts) + "' AND dead_at IS NOT NULL AND attempts = " +
                       std::to_string(max_attempts)),
              1);
  }
  EXPECT_EQ(DispatchSettings{}.max_attempts, 8);  // as docs/configuration.md says
}

TEST_P(DispatcherTest, EnvelopeCarriesCausationAndDepth) {
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  Json seen;
  d.add({"one", "contact.created", [&](const Json& e) { seen = e; return std::string(); }});
  auto ctx = h.context(h.tenant);
  ctx.causation_id = "evt_cause";
  ctx.depth = 2;
  std::string id = h.records().create(ctx, "contact", {{"name", "Ana"}}).record["id"];
  d.run_once();
  EXPECT_EQ(seen["entity"]["id"], id);
  EXPECT_EQ(seen["tenant_id"], h.tenant);
  EXPECT_EQ(seen["causation_id"], "evt_cause");
  EXPECT_EQ(seen["depth"], 2);
  EXPECT_TRUE(seen["id"].get<std::string>().rfind("evt_", 0) == 0) << seen;
}

TEST_P(DispatcherTest, AFailingSubscriberIsRetriedWithBackOffThenDeadLetteredThenReplayed) {
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  int calls = 0;
  bool healthy = false;
  d.add({"flaky", "contact.created", [&](const Json&) {
           ++calls;
           if (!healthy) throw std::runtime_error("mailbox unreachable");
           return std::string();
         }});
  std::string later = contact("Ana");
  d.run_once();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(failures("attempts = 1 AND dead_at IS NULL AND last_error = 'mailbox unreachable'"), 1);
  d.run_once();
  EXPECT_EQ(calls, 1);  // not due yet
  h.clock.advance_micros(1'000'000);
  d.run_once();
  EXPECT_EQ(calls, 2);
  h.clock.advance_micros(1'000'000);  // the second retry waits 2 s
  d.run_once();
  EXPECT_EQ(calls, 2);
  h.clock.advance_micros(1'000'000);
  d.run_once();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(failures("attempts = 3 AND dead_at IS NOT NULL AND next_attempt_at IS NULL"), 1);
  h.clock.advance_micros(3'600'000'000);
  d.run_once();
  EXPECT_EQ(calls, 3);  // dead letters wait for a replay

  worker().write("", [&](store::Transaction& tx) {
    tx.session() << "UPDATE event_failures SET dead_at = NULL, attempts = 0, next_attempt_at = 0";
  });
  healthy = true;
  d.run_once();
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(failures("1 = 1"), 0);
}

TEST_P(DispatcherTest, OneFailureDoesNotHoldBackTheEventsAfterIt) {
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  std::vector<std::string> delivered;
  std::string poison;
  d.add({"picky", "contact.created", [&](const Json& e) {
           if (e["entity"]["id"] == poison) return std::string("cannot handle this one");
           delivered.push_back(e["entity"]["id"]);
           return std::string();
         }});
  poison = contact("Poison");
  std::string next = contact("Next");
  d.run_once();
  EXPECT_EQ(delivered, (std::vector<std::string>{next}));
  EXPECT_EQ(failures("event_name = 'contact.created'"), 1);
}

TEST_P(DispatcherTest, TwoNodesShareASubscriberThroughItsLease) {
  DispatchSettings s = settings();
  Dispatcher a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  std::multiset<std::string> seen;
  auto record = [&](const Json& e) { seen.insert(e["entity"]["id"]); return std::string(); };
  a.add({"shared", "contact.created", record});
  b.add({"shared", "contact.created", record});
  contact("Ana");
  EXPECT_EQ(a.run_once(), 1u);
  contact("Bia");
  EXPECT_EQ(b.run_once(), 0u);  // node-a holds the lease
  h.clock.advance_micros(31'000'000);  // node-a died: its lease runs out
  EXPECT_EQ(b.run_once(), 1u);
  EXPECT_EQ(seen.size(), 2u);
  for (const auto& id : seen) EXPECT_EQ(seen.count(id), 1u);
}

// A clean shutdown gives the lease up (issue #20: deliveries paused ~30 s after a
// restart): the next node delivers at once.
TEST_P(DispatcherTest, AReleasedLeaseIsTakenOverAtOnce) {
  DispatchSettings s = settings();
  Dispatcher a(worker(), h.clock, s, "node-a"), b(worker(), h.clock, s, "node-b");
  int by_a = 0, by_b = 0;
  a.add({"shared", "contact.created", [&](const Json&) { ++by_a; return std::string(); }});
  b.add({"shared", "contact.created", [&](const Json&) { ++by_b; return std::string(); }});
  contact("Ana");
  EXPECT_EQ(a.run_once(), 1u);
  a.release_leases();
  contact("Bia");
  EXPECT_EQ(b.run_once(), 1u);  // no lease to wait out
  EXPECT_EQ(by_a + by_b, 2);
  EXPECT_EQ(a.run_once(), 0u);  // node-b holds it now
}

TEST_P(DispatcherTest, EventsCausedTooDeepAreNotDelivered) {
  Dispatcher d(worker(), h.clock, settings(), "node-a");
  int calls = 0;
  d.add({"loop", "contact.created", [&](const Json&) { ++calls; return std::string(); }});
  auto ctx = h.context(h.tenant);
  ctx.depth = d.settings().max_depth + 1;
  h.records().create(ctx, "contact", {{"name", "Looped"}});
  d.run_once();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(failures("dead_at IS NOT NULL AND last_error LIKE '%events.max_depth%'"), 1);
}

TEST_P(DispatcherTest, DeliveredEventsLeaveTheOutboxAfterTheRetentionOthersStay) {
  DispatchSettings s = settings();
  s.retention = std::chrono::hours(24);
  Dispatcher d(worker(), h.clock, s, "node-a");
  bool failing = true;
  d.add({"picky", "contact.created", [&](const Json&) { return failing ? std::string("down") : std::string(); }});
  int before = h.count("SELECT count(*) FROM outbox");
  contact("Delivered later");  // fails first: a retry keeps it
  d.run_once();
  failing = false;
  contact("Delivered");
  d.run_once();
  h.clock.advance_micros(2LL * 24 * 3600 * 1'000'000);
  std::size_t purged = d.purge_delivered();
  // History before the subscriber goes; the event still retried stays, and so does the
  // newest (a subscriber added later starts after it).
  EXPECT_EQ(purged, static_cast<std::size_t>(before));
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox"), 2);
  d.run_once();  // its retry is due: delivered now
  EXPECT_EQ(failures("1 = 1"), 0);
  EXPECT_EQ(d.purge_delivered(), 1u);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox"), 1);
  Dispatcher later(worker(), h.clock, s, "node-b");
  std::vector<std::string> seen;
  later.add({"later", "*", [&](const Json& e) { seen.push_back(e["entity"]["id"]); return std::string(); }});
  std::string fresh = contact("After the purge");
  later.run_once();
  EXPECT_EQ(seen, (std::vector<std::string>{fresh}));  // at once: no gap to wait out
}

TEST(DispatchPattern, MatchesNamesPrefixesAndEverything) {
  EXPECT_TRUE(events::matches_pattern("*", "deal.won"));
  EXPECT_TRUE(events::matches_pattern("deal.*", "deal.stage_changed"));
  EXPECT_FALSE(events::matches_pattern("deal.*", "dealer.created"));
  EXPECT_FALSE(events::matches_pattern("deal.*", "deal"));
  EXPECT_TRUE(events::matches_pattern("deal.won", "deal.won"));
  EXPECT_FALSE(events::matches_pattern("deal.won", "deal.lost"));
}

INSTANTIATE_TEST_SUITE_P(Backends, DispatcherTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
