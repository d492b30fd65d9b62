#include "kernel/http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace nucleo::http {

RateLimiter::Bucket& RateLimiter::refill(const std::string& key, std::chrono::steady_clock::time_point now) {
  constexpr std::size_t many = 100'000;
  if (buckets_.size() >= many) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double elapsed = std::chrono::duration<double>(now - it->second.refilled).count();
      it = it->second.tokens + elapsed * rate_ >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.refilled).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.refilled = now;
  return b;
}

bool RateLimiter::take(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
  return false;
}

bool RateLimiter::has_token(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key, now);
  if (b.tokens >= 1.0) return true;
  retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
  return false;
}

}  // namespace nucleo::http
