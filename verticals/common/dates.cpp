#include "common/dates.hpp"

#include <cstdio>
#include <stdexcept>

namespace nucleo::verticals {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

}  // namespace

int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

long day_number(const std::string& date) {
  if (date.size() < 10 || date[4] != '-' || date[7] != '-') throw std::invalid_argument("not a date: " + date);
  return days_from_civil(std::stoi(date.substr(0, 4)), static_cast<unsigned>(std::stoi(date.substr(5, 2))),
                         static_cast<unsigned>(std::stoi(date.substr(8, 2))));
}

// The inverse of days_from_civil (H. Hinnant's civil_from_days).
std::string date_of_day(long days) {
  days += 719468;
  const long era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const long y = static_cast<long>(yoe) + era * 400 + (m <= 2);
  char out[16];
  std::snprintf(out, sizeof out, "%04ld-%02u-%02u", y, m, d);
  return out;
}

std::int64_t micros_of(const std::string& t) {
  if (t.size() < 20 || t[10] != 'T') throw std::invalid_argument("not an RFC 3339 time in UTC: " + t);
  std::int64_t seconds = day_number(t.substr(0, 10)) * 86400LL + std::stoi(t.substr(11, 2)) * 3600LL +
                         std::stoi(t.substr(14, 2)) * 60LL + std::stoi(t.substr(17, 2));
  std::int64_t fraction = 0;
  if (t[19] == '.') {
    std::string digits = t.substr(20, t.find_first_not_of("0123456789", 20) - 20);
    digits = (digits + "000000").substr(0, 6);
    fraction = std::stoll(digits);
  }
  return seconds * 1'000'000 + fraction;
}

long days_between(const std::string& earlier, const std::string& later) { return day_number(later) - day_number(earlier); }

std::string add_days(const std::string& date, long days) { return date_of_day(day_number(date) + days); }

std::string date_of_micros(std::int64_t micros) { return date_of_day(static_cast<long>(micros / 86'400'000'000LL)); }

}  // namespace nucleo::verticals
