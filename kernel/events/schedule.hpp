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

#include <bitset>
#include <chrono>
#include <string>

#include "kernel/domain/time.hpp"

namespace nucleo::events {

class Schedule {
 public:
  // Throws Error(validation) naming what is wrong with `text`.
  static Schedule parse(const std::string& text);

  // The first run time strictly after `t`.
  Timestamp next_after(Timestamp t) const;

  const std::string& text() const { return text_; }

 private:
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
