#include "kernel/events/schedule.hpp"

#include <date/tz.h>

#include <sstream>
#include <vector>

#include "kernel/domain/error.hpp"

namespace nucleo::events {
namespace {

using namespace std::chrono;

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw Error(ErrorCode::validation, "schedule '" + text + "': " + why,
              {{"schedule", why + " (\"every 5m\" or \"cron 0 7 * * 1-5\")"}});
}

int number(const std::string& schedule, const std::string& field, const std::string& s) {
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
    refuse(schedule, "'" + s + "' in the " + field + " field is not a number");
  return std::stoi(s);
}

// One crontab field into the set of values it allows, within [low, high].
template <std::size_t N>
std::bitset<N> cron_field(const std::string& schedule, const std::string& name, const std::string& text, int low,
                          int high) {
  std::bitset<N> allowed;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      step = number(schedule, name, item.substr(slash + 1));
      if (step == 0) refuse(schedule, "a step of 0 in the " + name + " field");
      item.erase(slash);
    }
    int from = low, to = high;
    if (item != "*") {
      auto dash = item.find('-');
      from = number(schedule, name, item.substr(0, dash));
      to = dash == std::string::npos ? (step > 1 ? high : from) : number(schedule, name, item.substr(dash + 1));
    }
    if (from < low || to > high || from > to)
      refuse(schedule, "'" + item + "' in the " + name + " field is outside " + std::to_string(low) + "-" +
                           std::to_string(high));
    for (int v = from; v <= to; v += step) allowed.set(static_cast<std::size_t>(v));
  }
  if (allowed.none()) refuse(schedule, "the " + name + " field is empty");
  return allowed;
}

}  // namespace

Schedule Schedule::parse(const std::string& text) {
  Schedule s;
  s.text_ = text;
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.size() == 2 && words[0] == "every") {
    const std::string& amount = words[1];
    if (amount.size() < 2) refuse(text, "'" + amount + "' is not an interval like 30s, 5m, 2h or 1d");
    long n = number(text, "interval", amount.substr(0, amount.size() - 1));
    switch (amount.back()) {
      case 's': s.every_ = seconds(n); break;
      case 'm': s.every_ = minutes(n); break;
      case 'h': s.every_ = hours(n); break;
      case 'd': s.every_ = hours(24 * n); break;
      default: refuse(text, "the interval's unit must be s, m, h or d");
    }
    if (s.every_.count() == 0) refuse(text, "an interval of 0");
    return s;
  }
  if (words.size() == 6 && words[0] == "cron") {
    s.minutes_ = cron_field<60>(text, "minute", words[1], 0, 59);
    s.hours_ = cron_field<24>(text, "hour", words[2], 0, 23);
    s.days_ = cron_field<32>(text, "day-of-month", words[3], 1, 31);
    s.months_ = cron_field<13>(text, "month", words[4], 1, 12);
    auto weekdays = cron_field<8>(text, "day-of-week", words[5], 0, 7);
    for (std::size_t d = 0; d < 7; ++d) s.weekdays_[d] = weekdays[d] || (d == 0 && weekdays[7]);
    s.any_day_ = words[3].front() == '*';
    s.any_weekday_ = words[5].front() == '*';
    // "cron 0 0 30 2 *" (30 February) would never run: say so now, not never.
    if (s.next_after(Timestamp{0}).micros == 0) refuse(text, "no date ever matches it");
    return s;
  }
  refuse(text, "expected \"every <n><s|m|h|d>\" or \"cron <minute> <hour> <day> <month> <weekday>\"");
}

std::int64_t Schedule::next_wall_minute(std::int64_t wall) const {
  // Walk forward a minute at a time, skipping whole months, days and hours that cannot
  // match. Eight years covers every leap-day schedule.
  auto at = sys_time<minutes>(minutes(wall)) + minutes(1);
  const auto give_up = at + hours(24 * 366 * 8);
  while (at < give_up) {
    auto day = floor<days>(at);
    year_month_day date(day);
    hh_mm_ss time(at - day);
    unsigned month = static_cast<unsigned>(date.month());
    if (!months_[month]) {
      at = sys_days(year_month_day(date.year() / date.month() / 1) + months(1));
      continue;
    }
    bool dom = days_[static_cast<unsigned>(date.day())];
    bool dow = weekdays_[weekday(day).c_encoding()];
    bool day_matches = any_day_ ? dow : any_weekday_ ? dom : (dom || dow);
    if (!day_matches) {
      at = day + days(1);
      continue;
    }
    if (!hours_[static_cast<std::size_t>(time.hours().count())]) {
      at = floor<hours>(at) + hours(1);
      continue;
    }
    if (!minutes_[static_cast<std::size_t>(time.minutes().count())]) {
      at += minutes(1);
      continue;
    }
    return at.time_since_epoch().count();
  }
  return 0;
}

Timestamp Schedule::next_after(Timestamp t, const std::string& zone_name) const {
  if (every_.count() > 0) return Timestamp{t.micros + duration_cast<microseconds>(every_).count()};
  auto instant = floor<minutes>(sys_time<microseconds>(microseconds(t.micros)));
  if (zone_name.empty()) {
    std::int64_t wall = next_wall_minute(instant.time_since_epoch().count());
    return Timestamp{wall == 0 ? 0 : wall * 60'000'000};
  }
  const date::time_zone* zone = date::locate_zone(zone_name);
  // The same walk on the zone's wall clock, each match taken back to UTC; a match that
  // maps to t or before (a repeated hour) is skipped.
  // to_local answers in seconds (the zone's offsets are); the walk counts minutes.
  std::int64_t wall = floor<minutes>(zone->to_local(instant)).time_since_epoch().count();
  for (int tries = 0; tries < 100'000; ++tries) {
    wall = next_wall_minute(wall);
    if (wall == 0) return Timestamp{0};
    auto utc = zone->to_sys(date::local_time<minutes>(minutes(wall)), date::choose::earliest);
    std::int64_t micros = duration_cast<microseconds>(utc.time_since_epoch()).count();
    if (micros > t.micros) return Timestamp{micros};
  }
  return Timestamp{0};
}

void Schedule::check_zone(const std::string& zone) {
  try {
    date::locate_zone(zone);
  } catch (const std::exception&) {
    throw Error(ErrorCode::validation, "'" + zone + "' is not a time zone this machine knows (IANA names: "
                                       "America/Sao_Paulo)", {{"time_zone", "unknown time zone"}});
  }
}

}  // namespace nucleo::events
