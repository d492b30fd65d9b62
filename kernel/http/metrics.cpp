#include "kernel/http/metrics.hpp"

#include "kernel/domain/prometheus_text.hpp"

namespace nucleo::http {

void Metrics::observe(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < buckets.size(); ++i)
    if (seconds <= buckets[i]) ++h.counts[i];
  ++h.total;
  h.sum += seconds;
}

std::string Metrics::render(const GaugeSource& gauges) const {
  PrometheusText out;
  {
    std::lock_guard lock(mutex_);
    out.family("nucleo_http_requests_total", "counter", "HTTP requests by route template and status.");
    for (const auto& [key, count] : requests_)
      out.sample("nucleo_http_requests_total", {{"route", key.first}, {"status", std::to_string(key.second)}},
                 static_cast<double>(count));
    out.family("nucleo_http_request_duration_seconds", "histogram",
               "Time from request to response, by route template.");
    const std::vector<double> bounds(buckets.begin(), buckets.end());
    for (const auto& [route, h] : latency_)
      out.histogram("nucleo_http_request_duration_seconds", {{"route", route}}, bounds,
                    std::vector<std::uint64_t>(h.counts.begin(), h.counts.end()), h.total, h.sum);
  }
  std::string text = out.str();
  if (gauges) text += gauges();
  return text;
}

}  // namespace nucleo::http
