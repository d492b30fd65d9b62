#pragma once

// When a recurring job runs (docs/architecture.md §8). Two forms, both in UTC:
//
//   every <n><unit>      unit s, m, h or d: "every 30s", "every 5m", "every 1d".
//                        Counted from the previous run's scheduled time.
//   cron <m> <h> <dom> <mon> <dow>
//                        the five fields of crontab(5): minute 0-59, hour 0-23, day of
//                        month 1-31, month 1-12, day of week 0-7 (0 and 7 are Sunday).
//                        Each field is `*`, a number, a range `a-b`, a step `*/s` or
//                        `a-b/s`, or a comma-separated list of those. As in cron, when
//                        both day fields are restricted a day matching either runs.
//                        "cron 0 7 * * 1-5": 07:00 UTC on weekdays.
//
// Names (MON, JAN) and the @daily shorthands are not accepted: one spelling each.
//
// A cron schedule may run on a time zone's wall clock instead (next_after with a zone:
// "cron 0 7 * * 1-5" at 07:00 in America/Sao_Paulo). A wall time skipped by a daylight
// saving change runs at the change; one that happens twice runs at the first.

#include <bitset>
#include <chrono>
#include <string>

#include "kernel/domain/time.hpp"

namespace nucleo::events {

class Schedule {
 public:
  // Throws Error(validation) naming what is wrong with `text`.
  static Schedule parse(const std::string& text);

  // The first run time strictly after `t`; cron fields read on `zone`'s wall clock
  // (an IANA name: America/Sao_Paulo) when given, in UTC otherwise.
  Timestamp next_after(Timestamp t, const std::string& zone = "") const;

  // Throws Error(validation) unless `zone` is an IANA time zone this machine knows.
  static void check_zone(const std::string& zone);

  const std::string& text() const { return text_; }

 private:
  // The first wall-clock minute after `wall` the cron fields match (minutes since the
  // epoch of a clock without zone), or 0 when none within eight years.
  std::int64_t next_wall_minute(std::int64_t wall) const;
  std::string text_;
  std::chrono::seconds every_{0};  // non-zero: an interval schedule
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1-31
  std::bitset<13> months_;  // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true, any_weekday_ = true;
};

}  // namespace nucleo::events
