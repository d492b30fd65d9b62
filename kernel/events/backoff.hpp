#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace nucleo::events {

// How long to wait, in µs, before retrying after the n-th failed attempt (n ≥ 1):
// first · 2^(n-1), capped at `most`. Shared by event deliveries and jobs.
inline std::int64_t backoff_micros(std::chrono::milliseconds first, std::chrono::milliseconds most, int attempts) {
  using std::chrono::microseconds;
  const std::int64_t cap = std::chrono::duration_cast<microseconds>(most).count();
  std::int64_t delay = std::chrono::duration_cast<microseconds>(first).count();
  for (int i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

}  // namespace nucleo::events
