#include "kernel/domain/time_zone.hpp"

#include <date/tz.h>

namespace nucleo {
namespace {

using namespace std::chrono;

const date::time_zone* zone_or_null(const std::string& zone) {
  if (zone.empty()) return nullptr;
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool is_weekend(date::sys_days day) {
  date::weekday w{day};
  return w == date::Saturday || w == date::Sunday;
}

}  // namespace

bool is_time_zone(const std::string& zone) { return zone_or_null(zone) != nullptr; }

std::string format_rfc3339_in(Timestamp t, const std::string& zone_name) {
  const date::time_zone* zone = zone_or_null(zone_name);
  if (!zone) return format_rfc3339(t);
  auto instant = floor<seconds>(date::sys_time<microseconds>(microseconds(t.micros)));
  auto info = zone->get_info(instant);
  auto local = date::local_seconds((instant + info.offset).time_since_epoch());
  std::string text = date::format("%FT%T", local);
  auto offset = duration_cast<minutes>(info.offset).count();
  if (offset == 0) return text + "Z";
  char sign = offset < 0 ? '-' : '+';
  offset = offset < 0 ? -offset : offset;
  char tail[8];
  std::snprintf(tail, sizeof tail, "%c%02d:%02d", sign, static_cast<int>(offset / 60), static_cast<int>(offset % 60));
  return text + tail;
}

Timestamp business_day_at(Timestamp from, const std::string& zone_name, int business_days, int hour) {
  const date::time_zone* zone = zone_or_null(zone_name);
  auto instant = date::sys_time<microseconds>(microseconds(from.micros));
  // The local calendar day, carried as sys_days only to count weekdays.
  auto local = zone ? zone->to_local(instant) : date::local_time<microseconds>(instant.time_since_epoch());
  date::sys_days day{floor<date::days>(local).time_since_epoch()};
  while (is_weekend(day)) day += date::days{1};
  for (int left = business_days; left > 0;) {
    day += date::days{1};
    if (!is_weekend(day)) --left;
  }
  auto wall = date::local_seconds(day.time_since_epoch()) + hours(hour);
  auto utc = zone ? zone->to_sys(wall, date::choose::earliest) : date::sys_seconds(wall.time_since_epoch());
  return Timestamp{duration_cast<microseconds>(utc.time_since_epoch()).count()};
}

Timestamp within_working_hours(Timestamp t, const std::string& zone_name, int start_hour, int end_hour, unsigned days) {
  if ((days & 0x7f) == 0) days = 0x7f;
  auto working = [days](date::sys_days day) { return (days >> date::weekday{day}.c_encoding()) & 1U; };
  const date::time_zone* zone = zone_or_null(zone_name);
  auto instant = date::sys_time<microseconds>(microseconds(t.micros));
  auto local = zone ? zone->to_local(instant) : date::local_time<microseconds>(instant.time_since_epoch());
  date::sys_days day{floor<date::days>(local).time_since_epoch()};
  auto into_day = local - date::local_days(day.time_since_epoch());
  if (working(day) && into_day >= hours(start_hour) && into_day < hours(end_hour)) return t;
  // Before the opening of a working day: its opening; otherwise the next working day's.
  if (!working(day) || into_day >= hours(end_hour)) {
    day += date::days{1};
    while (!working(day)) day += date::days{1};
  }
  auto wall = date::local_seconds(day.time_since_epoch()) + hours(start_hour);
  auto utc = zone ? zone->to_sys(wall, date::choose::earliest) : date::sys_seconds(wall.time_since_epoch());
  return Timestamp{duration_cast<microseconds>(utc.time_since_epoch()).count()};
}

Timestamp from_wall_clock(int year, unsigned month, unsigned day, int hour, int minute, int second,
                          const std::string& zone_name) {
  using namespace std::chrono;
  const date::time_zone* zone = zone_or_null(zone_name);
  date::sys_days days{date::year{year} / date::month{month} / date::day{day}};
  auto wall = date::local_seconds(days.time_since_epoch()) + hours(hour) + minutes(minute) + seconds(second);
  auto utc = zone ? zone->to_sys(wall, date::choose::earliest) : date::sys_seconds(wall.time_since_epoch());
  return Timestamp{duration_cast<microseconds>(utc.time_since_epoch()).count()};
}

}  // namespace nucleo
