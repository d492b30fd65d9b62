#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace nucleo::http {

// A token bucket per API key (docs/architecture.md §7), or per client address for failed
// authentications: `rate` requests per second on average, bursts up to `burst`. Per
// node: N nodes allow N × rate in total. Full buckets are forgotten once there are many,
// so a flood of distinct keys or addresses cannot grow it without bound.
class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst) : rate_(rate_per_second), burst_(burst) {}

  // True when the request may proceed; otherwise `retry_after_s` says when a token
  // will be there.
  bool take(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s);
  // Like take, but spends nothing: whether a request would proceed now.
  bool has_token(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point refilled;
  };
  Bucket& refill(const std::string& key, std::chrono::steady_clock::time_point now);

  double rate_, burst_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace nucleo::http
