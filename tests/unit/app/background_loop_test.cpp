// ADR 0037: a background loop sleeps until woken, until what it found falls due, or
// until its safety poll — and runs again at once while it finds work. The safety poll is
// set out of the tests' reach (ten minutes) wherever it is not what is tested, so each
// test would hang, not pass, if its wake-up were lost.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "kernel/app/background_loop.hpp"

namespace nucleo::app {
namespace {

using namespace std::chrono_literals;

// Counts passes; wait_for(n) returns once n passes ran (false after a minute).
struct Passes {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  void ran() {
    std::lock_guard lock(mutex);
    ++count;
    changed.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 60s, [&] { return count >= n; });
  }
  int now() {
    std::lock_guard lock(mutex);
    return count;
  }
};

TEST(BackgroundLoop, AnAnnouncementOfItsKindWakesIt) {
  store::WorkSignal signal;
  Passes passes;
  BackgroundLoop loop("test", [&] { passes.ran(); return BackgroundLoop::Outcome(0); }, {10min, 0ms}, &signal,
                      store::kind(store::Work::jobs));
  ASSERT_TRUE(passes.wait_for(1));  // the first pass, at start
  signal.raise(store::kind(store::Work::audit));  // not its kind
  signal.raise(store::kind(store::Work::jobs));
  EXPECT_TRUE(passes.wait_for(2));
}

TEST(BackgroundLoop, AnIdlePassSleepsUntilItsWorkFallsDue) {
  Passes passes;
  BackgroundLoop loop("test",
                      [&] {
                        passes.ran();
                        BackgroundLoop::Outcome idle(0);
                        idle.due_in = 20ms;
                        return idle;
                      },
                      {10min, 0ms});
  EXPECT_TRUE(passes.wait_for(3));
}

TEST(BackgroundLoop, APassThatDidWorkIsFollowedAtOnce) {
  Passes passes;
  std::atomic<int> work_left{5};
  BackgroundLoop loop("test",
                      [&] {
                        passes.ran();
                        return BackgroundLoop::Outcome(work_left-- > 0 ? 1 : 0);
                      },
                      {10min, 0ms});
  EXPECT_TRUE(passes.wait_for(6));
}

TEST(BackgroundLoop, TheSafetyPollFindsWhatNobodyAnnounced) {
  Passes passes;
  BackgroundLoop loop("test", [&] { passes.ran(); return BackgroundLoop::Outcome(0); }, {20ms, 0ms});
  EXPECT_TRUE(passes.wait_for(3));
}

TEST(BackgroundLoop, APassThatThrowsIsRetried) {
  Passes passes;
  BackgroundLoop loop("test",
                      [&]() -> BackgroundLoop::Outcome {
                        passes.ran();
                        throw std::runtime_error("the database is away");
                      },
                      {20ms, 0ms});
  EXPECT_TRUE(passes.wait_for(2));
}

TEST(BackgroundLoop, StopsPromptlyWhileAsleep) {
  Passes passes;
  auto loop = std::make_unique<BackgroundLoop>("test", [&] { passes.ran(); return BackgroundLoop::Outcome(0); },
                                               BackgroundLoop::Timing{10min, 0ms});
  ASSERT_TRUE(passes.wait_for(1));
  loop.reset();  // would wait out the ten-minute poll if the stop did not wake it
  EXPECT_EQ(passes.now(), 1);
}

}  // namespace
}  // namespace nucleo::app
