#include "kernel/domain/time.hpp"

#include <gtest/gtest.h>

namespace nucleo {
namespace {

TEST(Rfc3339, FormatsUtcWithZAndMicroseconds) {
  EXPECT_EQ(format_rfc3339(Timestamp{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Timestamp{1'782'864'000'000'000}), "2026-07-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Timestamp{1'782'864'000'000'001}), "2026-07-01T00:00:00.000001Z");
  EXPECT_EQ(format_rfc3339(Timestamp{951'782'400'500'000}), "2000-02-29T00:00:00.500000Z");
}

TEST(Rfc3339, AppendsTheSameTextAfterWhatIsThere) {
  for (std::int64_t us : {0LL, 1'782'864'000'000'001LL, -1LL, 253'402'300'800'000'000LL /* year 10000 */}) {
    std::string out = "at ";
    append_rfc3339(out, Timestamp{us});
    EXPECT_EQ(out, "at " + format_rfc3339(Timestamp{us}));
  }
  EXPECT_EQ(format_rfc3339(Timestamp{253'402'300'800'000'000}), "10000-01-01T00:00:00.000000Z");
}

TEST(Rfc3339, FormatsInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(Timestamp{-1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(Timestamp{-86'400'000'000}), "1969-12-31T00:00:00Z");
}

TEST(Rfc3339, ParsesWhatItFormats) {
  for (std::int64_t us : {0LL, 1LL, -1LL, 1'782'864'000'123'456LL, 4'102'444'799'999'999LL, -2'208'988'800'000'000LL}) {
    auto parsed = parse_rfc3339(format_rfc3339(Timestamp{us}));
    ASSERT_TRUE(parsed) << us;
    EXPECT_EQ(parsed->micros, us);
  }
}

TEST(Rfc3339, AppliesNumericOffsets) {
  auto brasilia = parse_rfc3339("2026-07-01T09:00:00-03:00");
  auto utc = parse_rfc3339("2026-07-01T12:00:00Z");
  ASSERT_TRUE(brasilia && utc);
  EXPECT_EQ(*brasilia, *utc);
  EXPECT_EQ(*parse_rfc3339("2026-07-01T12:00:00+00:00"), *utc);
}

TEST(Rfc3339, TruncatesFractionsBeyondMicroseconds) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.123456789Z")->micros, 123456);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.5Z")->micros, 500000);
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
  for (const char* bad :
       {"", "2026-07-01", "2026-07-01T12:00:00", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-07-01T24:00:00Z",
        "2026-07-01T12:60:00Z", "2026-07-01T12:00:00.Z", "2026-07-01T12:00:00+0300", "2026-07-01 12:00:00Z",
        "2026-07-01T12:00:00Zjunk", "26-07-01T12:00:00Z", "2026-07-01T12:00:00.1234567890Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

TEST(ManualClock, StandsStillUntilMoved) {
  ManualClock clock(Timestamp{42});
  EXPECT_EQ(clock.now().micros, 42);
  clock.advance_micros(8);
  EXPECT_EQ(clock.now().micros, 50);
}

}  // namespace
}  // namespace nucleo
