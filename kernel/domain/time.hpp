#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nucleo {

// A UTC instant as microseconds since the Unix epoch: the one time representation in
// the database (int64) and in memory. JSON shows it as RFC 3339 with `Z` (docs/architecture.md §3).
struct Timestamp {
  std::int64_t micros = 0;

  static Timestamp from_millis(std::int64_t ms) { return Timestamp{ms * 1000}; }
  std::int64_t millis() const { return micros / 1000; }
  auto operator<=>(const Timestamp&) const = default;
};

// "2026-07-01T12:34:56.789012Z"; sub-second digits are omitted when zero.
std::string format_rfc3339(Timestamp t);
// The same text appended to `out`: no string of its own (a list page writes 150 of these).
void append_rfc3339(std::string& out, Timestamp t);

// Accepts RFC 3339 date-times with `Z` or a numeric offset and up to 9 fraction
// digits (truncated to microseconds). Returns nothing when the text is not one.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// Injectable so tests can travel in time (docs/architecture.md §1, CallContext.clock).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

// A clock that stands still until told to move.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start) {}
  Timestamp now() const override { return now_; }
  void set(Timestamp t) { now_ = t; }
  void advance_micros(std::int64_t us) { now_.micros += us; }

 private:
  Timestamp now_;
};

}  // namespace nucleo
