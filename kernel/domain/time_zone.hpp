#pragma once

// Wall-clock time in a user's or tenant's IANA time zone (ADR 0023: Howard Hinnant's
// date library, as GCC 12 has no std::chrono zones).

#include <string>

#include "kernel/domain/time.hpp"

namespace nucleo {

// Whether this machine's time zone database knows `zone` ("America/Manaus").
bool is_time_zone(const std::string& zone);

// `t` as RFC 3339 on `zone`'s wall clock with its offset: "2026-12-04T18:00:00-04:00".
// An unknown zone reads as UTC ("Z").
std::string format_rfc3339_in(Timestamp t, const std::string& zone);

// The instant a wall-clock time in `zone` names (a time a DST change skips or repeats:
// its earliest reading). Fields are not checked; an unknown zone reads as UTC.
Timestamp from_wall_clock(int year, unsigned month, unsigned day, int hour, int minute, int second,
                          const std::string& zone);

// The instant `business_days` working days (Monday to Friday) after the day `from`
// falls on in `zone`, at `hour`:00 there. From a Saturday, 1 business day is Tuesday
// (Monday is day 0's next working day); 0 is `from`'s own day (or the next working day
// when that is a weekend). An unknown zone reads as UTC.
Timestamp business_day_at(Timestamp from, const std::string& zone, int business_days, int hour);

// Working days as bits, bit d for weekday d (0 Sunday … 6 Saturday).
inline constexpr unsigned monday_to_friday = 0b0111110;

// The first instant at or after `t` within working hours in `zone`: on the `days`, from
// `start_hour`:00 to `end_hour`:00 there. An unknown zone reads as UTC; no day at all
// reads as every day.
Timestamp within_working_hours(Timestamp t, const std::string& zone, int start_hour, int end_hour,
                               unsigned days = monday_to_friday);

}  // namespace nucleo
