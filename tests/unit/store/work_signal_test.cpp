// ADR 0037: the kinds of background work travel as names, and a raise reaches the
// listeners of its kinds — and other nodes only when it happened in this process.
#include <gtest/gtest.h>

#include "kernel/store/work_signal.hpp"

namespace nucleo::store {
namespace {

TEST(WorkNames, RoundTripAndIgnoreWhatANewerNodeSends) {
  WorkKinds some = kind(Work::audit) | kind(Work::jobs);
  EXPECT_EQ(work_names(some), "audit,jobs");
  EXPECT_EQ(parse_work_names("audit,jobs"), some);
  EXPECT_EQ(parse_work_names(work_names(every_kind)), every_kind);
  EXPECT_EQ(parse_work_names("outbox,reports,,imports"), kind(Work::outbox) | kind(Work::imports));
  EXPECT_EQ(parse_work_names(""), 0u);
  EXPECT_EQ(work_names(0), "");
}

TEST(WorkSignal, ARaiseReachesTheListenersOfItsKindsOnly) {
  WorkSignal signal;
  WorkKinds audit_heard = 0, jobs_heard = 0, forwarded = 0;
  auto audit = signal.subscribe(kind(Work::audit), [&](WorkKinds k) { audit_heard |= k; });
  auto jobs = signal.subscribe(kind(Work::jobs), [&](WorkKinds k) { jobs_heard |= k; });
  signal.forward_to([&](WorkKinds k) { forwarded |= k; });

  signal.raise(kind(Work::audit) | kind(Work::outbox));
  EXPECT_EQ(audit_heard, kind(Work::audit));
  EXPECT_EQ(jobs_heard, 0u);
  EXPECT_EQ(forwarded, kind(Work::audit) | kind(Work::outbox));

  // What another node announced wakes this one's loops but is not sent back out.
  signal.raise(kind(Work::jobs), WorkSignal::Origin::elsewhere);
  EXPECT_EQ(jobs_heard, kind(Work::jobs));
  EXPECT_EQ(forwarded, kind(Work::audit) | kind(Work::outbox));
}

TEST(WorkSignal, ASubscriptionEndsWithItsHolder) {
  WorkSignal signal;
  int heard = 0;
  {
    auto subscription = signal.subscribe(every_kind, [&](WorkKinds) { ++heard; });
    signal.raise(kind(Work::imports));
    WorkSignal::Subscription moved = std::move(subscription);
    signal.raise(kind(Work::imports));
  }
  signal.raise(kind(Work::imports));
  EXPECT_EQ(heard, 2);
}

}  // namespace
}  // namespace nucleo::store
