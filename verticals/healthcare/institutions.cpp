#include "institutions.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace nucleo::healthcare {
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

long day_number(const std::string& date) {
  if (date.size() < 10 || date[4] != '-' || date[7] != '-') throw std::invalid_argument("not a date: " + date);
  return days_from_civil(std::stoi(date.substr(0, 4)), static_cast<unsigned>(std::stoi(date.substr(5, 2))),
                         static_cast<unsigned>(std::stoi(date.substr(8, 2))));
}

std::string date_of_day(long days) {
  std::time_t seconds = static_cast<std::time_t>(days) * 86400;
  std::tm t{};
  gmtime_r(&seconds, &t);
  char out[11];
  std::strftime(out, sizeof out, "%Y-%m-%d", &t);
  return out;
}

}  // namespace

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

Json purchase_summary(const std::vector<Json>& orders, const std::string& as_of) {
  long orders_count = 0, recent_count = 0;
  std::int64_t value = 0, recent_value = 0;
  std::string last;
  std::string year_ago = add_days(as_of, -365);
  for (const auto& o : orders) {
    std::string on = o.value("ordered_on", "");
    if (on.empty() || on > as_of) continue;
    std::int64_t cents = o.value("value_cents", std::int64_t{0});
    ++orders_count;
    value += cents;
    if (on > year_ago) {
      ++recent_count;
      recent_value += cents;
    }
    last = std::max(last, on);
  }
  return {{"orders", orders_count},
          {"value_cents", value},
          {"last_order_on", last.empty() ? Json() : Json(last)},
          {"recency_days", last.empty() ? Json() : Json(days_between(last, as_of))},
          {"orders_12m", recent_count},
          {"value_cents_12m", recent_value}};
}

std::vector<Json> merge_newest(std::vector<std::vector<Json>> timelines, std::size_t limit) {
  std::vector<Json> all;
  for (auto& t : timelines)
    for (auto& item : t) all.push_back(std::move(item));
  // By the instant (the kernel leaves out zero fractions, so the text does not sort), then
  // the id, as the kernel orders a timeline.
  auto key = [](const Json& item) { return std::pair(micros_of(item.value("at", "")), item.value("id", "")); };
  std::sort(all.begin(), all.end(), [&](const Json& a, const Json& b) { return key(a) > key(b); });
  if (all.size() > limit) all.resize(limit);
  return all;
}

}  // namespace nucleo::healthcare
