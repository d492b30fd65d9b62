// PostgreSQL only: two writers on real, separate connections.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernel/services/record_service.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

using namespace std::chrono_literals;

// Holds each arriving thread until `parties` have arrived (or a timeout passes, so a
// serialising backend cannot hang the test).
class Rendezvous {
 public:
  explicit Rendezvous(int parties) : parties_(parties) {}
  void arrive() {
    std::unique_lock lock(m_);
    if (++arrived_ >= parties_) cv_.notify_all();
    cv_.wait_for(lock, 10s, [&] { return arrived_ >= parties_; });
  }

 private:
  int parties_, arrived_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
};

// Interleaving: A loads v1, B loads v1, A updates and commits, B's update finds no row
// at v1 → B fails with conflict. The validator (which runs after the load and before
// the save) is where both writers are made to meet.
TEST(Concurrency, BothWritersLoadVersionOne_ExactlyOneStageMoveWins) {
  test::ServiceHarness h(store::Backend::postgresql, 4);
  auto records = h.records();
  auto ctx = h.context(h.tenant);
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "P"}}).record["id"];
  std::string s1 =
      records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "A"}, {"position", 0}}).record["id"];
  std::string s2 =
      records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "B"}, {"position", 1}}).record["id"];
  std::string s3 =
      records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "C"}, {"position", 2}}).record["id"];
  std::string account = records.create(ctx, "account", {{"legal_name", "Buyer"}}).record["id"];

  for (int round = 0; round < 5; ++round) {
    std::string deal =
        records.create(ctx, "deal", {{"name", "D"}, {"account_id", account}, {"pipeline_id", pipeline}}).record["id"];
    Rendezvous both_loaded(2);
    std::atomic<bool> armed{true};
    h.validators.add("rendezvous-" + std::to_string(round), "deal", [&](const ValidationRequest& r) {
      if (armed && r.before.is_object() && r.before["id"] == deal) both_loaded.arrive();
      return std::vector<FieldError>{};
    });

    std::atomic<int> wins{0}, conflicts{0}, other{0};
    auto writer = [&](const std::string& stage) {
      try {
        records.move_deal_stage(ctx, deal, stage, 1);
        ++wins;
      } catch (const Error& e) {
        // Both loaded version 1, so the loser fails at its UPDATE (aborted: retry), not at
        // the version check (precondition_failed), which would mean no overlap.
        (e.code() == ErrorCode::aborted ? conflicts : other)++;
      }
    };
    std::thread a(writer, s2), b(writer, s3);
    a.join();
    b.join();
    armed = false;

    EXPECT_EQ(wins, 1) << "round " << round;
    EXPECT_EQ(conflicts, 1) << "round " << round;
    EXPECT_EQ(other, 0) << "round " << round;
    auto stored = records.get(ctx, "deal", deal);
    EXPECT_EQ(stored["version"], 2);
    EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'deal.stage_changed' AND entity_id = '" +
                      deal + "'"),
              1);
    EXPECT_EQ(h.count("SELECT count(*) FROM deal_stage_history WHERE deal_id = '" + deal + "'"), 2);
  }
  (void)s1;
}

}  // namespace
}  // namespace nucleo::services
