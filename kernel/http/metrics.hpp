#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace nucleo::http {

// Request counters and latency histograms by route template and status, rendered in
// the Prometheus text exposition format (PrometheusText) at GET /metrics.
class Metrics {
 public:
  static constexpr std::array<double, 12> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  void observe(const std::string& route, int status, double seconds);

  // Gauges read at scrape time (pool use, outbox backlog), appended after the counters.
  using GaugeSource = std::function<std::string()>;
  std::string render(const GaugeSource& gauges) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, buckets.size()> counts{};
    std::uint64_t total = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace nucleo::http
