#include "kernel/domain/time.hpp"

#include <chrono>
#include <cstdio>

namespace nucleo {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;

// Floor division, so instants before 1970 land on the right day.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

namespace {

// Writes `value` as exactly `width` decimal digits ending just before `end`.
void put_digits(char* end, std::int64_t value, int width) {
  for (int i = 0; i < width; ++i, value /= 10) *--end = static_cast<char>('0' + value % 10);
}

}  // namespace

// Hand-rolled rather than snprintf: every record read formats three of these.
void append_rfc3339(std::string& out, Timestamp t) {
  std::int64_t day = floor_div(t.micros, micros_per_day);
  std::int64_t in_day = t.micros - day * micros_per_day;
  std::chrono::year_month_day ymd{sys_days{days{day}}};
  int year = int(ymd.year());
  std::int64_t secs = in_day / micros_per_second;
  std::int64_t frac = in_day % micros_per_second;
  if (year < 0 || year > 9999) {  // outside RFC 3339's four-digit years: keep whatever printf says
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%d-%02u-%02uT%02d:%02d:%02d.%06lldZ", year, unsigned(ymd.month()),
                          unsigned(ymd.day()), int(secs / 3600), int(secs / 60 % 60), int(secs % 60),
                          static_cast<long long>(frac));
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  char text[] = "0000-00-00T00:00:00.000000Z";
  char* p = text;
  put_digits(p + 4, year, 4);
  put_digits(p + 7, unsigned(ymd.month()), 2);
  put_digits(p + 10, unsigned(ymd.day()), 2);
  put_digits(p + 13, secs / 3600, 2);
  put_digits(p + 16, secs / 60 % 60, 2);
  put_digits(p + 19, secs % 60, 2);
  if (frac == 0) {
    out.append(text, 19);
    out.push_back('Z');
    return;
  }
  put_digits(p + 26, frac, 6);
  out.append(text, sizeof text - 1);
}

std::string format_rfc3339(Timestamp t) {
  std::string out;
  append_rfc3339(out, t);
  return out;
}

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_digits(text, pos, 2, day) ||
      !(expect(text, pos, 'T') || expect(text, pos, 't')) || !read_digits(text, pos, 2, hour) ||
      !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second))
    return std::nullopt;

  std::int64_t fraction_micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) fraction_micros = fraction_micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) fraction_micros *= 10;
  }

  std::int64_t offset_seconds = 0;
  if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1;
    int oh, om;
    if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':') || !read_digits(text, pos, 2, om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  // RFC 3339 §5.6 allows second 60 (leap second); we fold it into the next second.
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                                  std::chrono::day{unsigned(day)}};
  if (!ymd.ok()) return std::nullopt;

  std::int64_t days_since_epoch = sys_days{ymd}.time_since_epoch().count();
  std::int64_t seconds = days_since_epoch * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return Timestamp{seconds * micros_per_second + fraction_micros};
}

Timestamp SystemClock::now() const {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()};
}

}  // namespace nucleo
