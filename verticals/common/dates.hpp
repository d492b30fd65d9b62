#pragma once

// Calendar arithmetic on ISO dates ("2025-01-07") that the packs share: contracts'
// renewals, a safra's decêndios, a week of sell-out. Proleptic Gregorian, UTC.

#include <cstdint>
#include <string>

namespace nucleo::verticals {

// Days since 1970-01-01 of an ISO date; throws std::invalid_argument on a malformed one.
long day_number(const std::string& date);
// The ISO date of a day number.
std::string date_of_day(long days);
// Days between two ISO dates (later - earlier); throws on a malformed date.
long days_between(const std::string& earlier, const std::string& later);
// The ISO date `days` after (or before, negative) `date`.
std::string add_days(const std::string& date, long days);
// An RFC 3339 time in UTC ("2026-07-01T12:34:56.5Z") as µs since the epoch.
std::int64_t micros_of(const std::string& rfc3339_utc);
// The UTC date of an instant in µs since the epoch.
std::string date_of_micros(std::int64_t micros);
// The days of a month (February of a leap year: 29).
int days_in_month(int year, int month);

}  // namespace nucleo::verticals
