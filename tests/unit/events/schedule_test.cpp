// Job schedules (kernel/events/schedule.hpp): the two forms, crontab field syntax,
// day-of-month/day-of-week rules, and clear refusals.
#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"
#include "kernel/events/schedule.hpp"

namespace nucleo::test {
namespace {

using events::Schedule;

Timestamp at(const std::string& rfc3339) {
  return *parse_rfc3339(rfc3339);
}

std::string next(const std::string& schedule, const std::string& after) {
  return format_rfc3339(Schedule::parse(schedule).next_after(at(after)));
}

std::string next_in(const std::string& schedule, const std::string& zone, const std::string& after) {
  return format_rfc3339(Schedule::parse(schedule).next_after(at(after), zone));
}

// Issue #20: cron on a time zone's wall clock, across daylight saving changes.
TEST(Schedule, CronReadsATimeZonesWallClock) {
  // São Paulo, UTC-3 all year since 2019: 07:00 there is 10:00 UTC.
  EXPECT_EQ(next_in("cron 0 7 * * 1-5", "America/Sao_Paulo", "2026-07-01T00:00:00Z"), "2026-07-01T10:00:00Z");
  EXPECT_EQ(next_in("cron 0 7 * * 1-5", "America/Sao_Paulo", "2026-07-03T10:00:00Z"), "2026-07-06T10:00:00Z");
  // Lisbon springs forward at 01:00 UTC on 2026-03-29 (01:00 → 02:00 local): 01:30 that
  // day never happens and runs at the change; otherwise 01:30 WET is 01:30 UTC.
  EXPECT_EQ(next_in("cron 30 1 * * *", "Europe/Lisbon", "2026-03-28T12:00:00Z"), "2026-03-29T01:00:00Z");
  EXPECT_EQ(next_in("cron 30 1 * * *", "Europe/Lisbon", "2026-03-29T01:00:00Z"), "2026-03-30T00:30:00Z");
  // It falls back at 01:00 UTC on 2026-10-25 (02:00 → 01:00 local): 01:30 happens twice,
  // and runs once, at the first (00:30 UTC); the next run is the next day's.
  EXPECT_EQ(next_in("cron 30 1 * * *", "Europe/Lisbon", "2026-10-24T12:00:00Z"), "2026-10-25T00:30:00Z");
  EXPECT_EQ(next_in("cron 30 1 * * *", "Europe/Lisbon", "2026-10-25T00:30:00Z"), "2026-10-26T01:30:00Z");
  // Intervals do not read a clock; UTC is the default.
  EXPECT_EQ(next_in("every 5m", "Europe/Lisbon", "2026-10-25T00:30:00Z"), "2026-10-25T00:35:00Z");
  EXPECT_EQ(next_in("cron 0 7 * * *", "", "2026-07-01T00:00:00Z"), "2026-07-01T07:00:00Z");
  EXPECT_NO_THROW(Schedule::check_zone("America/Manaus"));
  EXPECT_THROW(Schedule::check_zone("Mars/Olympus_Mons"), Error);
}

TEST(Schedule, IntervalsCountFromThePreviousRun) {
  EXPECT_EQ(next("every 30s", "2026-07-01T00:00:00Z"), "2026-07-01T00:00:30Z");
  EXPECT_EQ(next("every 5m", "2026-07-01T00:00:10Z"), "2026-07-01T00:05:10Z");
  EXPECT_EQ(next("every 2h", "2026-07-01T23:00:00Z"), "2026-07-02T01:00:00Z");
  EXPECT_EQ(next("every 1d", "2026-02-28T12:00:00Z"), "2026-03-01T12:00:00Z");
}

TEST(Schedule, CronFindsTheNextMatchingMinuteStrictlyAfter) {
  EXPECT_EQ(next("cron * * * * *", "2026-07-01T10:00:00Z"), "2026-07-01T10:01:00Z");
  EXPECT_EQ(next("cron * * * * *", "2026-07-01T10:00:59.5Z"), "2026-07-01T10:01:00Z");
  EXPECT_EQ(next("cron 0 7 * * *", "2026-07-01T07:00:00Z"), "2026-07-02T07:00:00Z");
  EXPECT_EQ(next("cron 0 7 * * *", "2026-07-01T06:59:00Z"), "2026-07-01T07:00:00Z");
  EXPECT_EQ(next("cron */15 * * * *", "2026-07-01T10:16:00Z"), "2026-07-01T10:30:00Z");
  EXPECT_EQ(next("cron 5,35 9-10 * * *", "2026-07-01T10:40:00Z"), "2026-07-02T09:05:00Z");
  EXPECT_EQ(next("cron 0 0 1 */3 *", "2026-07-15T00:00:00Z"), "2026-10-01T00:00:00Z");
  EXPECT_EQ(next("cron 30 23 31 12 *", "2026-07-01T00:00:00Z"), "2026-12-31T23:30:00Z");
}

TEST(Schedule, WeekdaysAndTheDayFieldsRule) {
  // 2026-07-03 is a Friday: weekdays only skips to Monday the 6th.
  EXPECT_EQ(next("cron 0 7 * * 1-5", "2026-07-03T08:00:00Z"), "2026-07-06T07:00:00Z");
  EXPECT_EQ(next("cron 0 7 * * 0", "2026-07-03T08:00:00Z"), "2026-07-05T07:00:00Z");
  EXPECT_EQ(next("cron 0 7 * * 7", "2026-07-03T08:00:00Z"), "2026-07-05T07:00:00Z");  // 7 is Sunday too
  // Both day fields restricted: either matches (the 13th, or any Friday).
  EXPECT_EQ(next("cron 0 0 13 * 5", "2026-07-04T00:00:00Z"), "2026-07-10T00:00:00Z");
  EXPECT_EQ(next("cron 0 0 13 * 5", "2026-07-11T00:00:00Z"), "2026-07-13T00:00:00Z");
  // 29 February: the next leap year.
  EXPECT_EQ(next("cron 0 12 29 2 *", "2026-03-01T00:00:00Z"), "2028-02-29T12:00:00Z");
}

TEST(Schedule, RefusesWhatItCannotRunNamingTheProblem) {
  auto why = [](const std::string& text) {
    try {
      Schedule::parse(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(why("every 5"), "accepted");
  EXPECT_NE(why("every 5w").find("unit must be s, m, h or d"), std::string::npos);
  EXPECT_NE(why("every 0s").find("interval of 0"), std::string::npos);
  EXPECT_NE(why("cron 60 * * * *").find("minute field is outside 0-59"), std::string::npos);
  EXPECT_NE(why("cron * 24 * * *").find("hour field"), std::string::npos);
  EXPECT_NE(why("cron * * 0 * *").find("day-of-month"), std::string::npos);
  EXPECT_NE(why("cron * * * 13 *").find("month field"), std::string::npos);
  EXPECT_NE(why("cron * * * * MON").find("is not a number"), std::string::npos);
  EXPECT_NE(why("cron */0 * * * *").find("step of 0"), std::string::npos);
  EXPECT_NE(why("cron 0 0 30 2 *").find("no date ever matches"), std::string::npos);
  EXPECT_NE(why("cron 0 7 * *").find("expected"), std::string::npos);
  EXPECT_NE(why("@daily").find("expected"), std::string::npos);
  EXPECT_NE(why("").find("expected"), std::string::npos);
}

}  // namespace
}  // namespace nucleo::test
