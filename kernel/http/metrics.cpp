#include "kernel/http/metrics.hpp"

#include <sstream>

namespace nucleo::http {

std::string prometheus_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

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
  std::ostringstream out;
  {
    std::lock_guard lock(mutex_);
    out << "# HELP nucleo_http_requests_total HTTP requests by route template and status.\n"
           "# TYPE nucleo_http_requests_total counter\n";
    for (const auto& [key, count] : requests_)
      out << "nucleo_http_requests_total{route=\"" << prometheus_label(key.first) << "\",status=\"" << key.second
          << "\"} " << count << "\n";
    out << "# HELP nucleo_http_request_duration_seconds Time from request to response, by route template.\n"
           "# TYPE nucleo_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : latency_) {
      std::string label = prometheus_label(route);
      for (std::size_t i = 0; i < buckets.size(); ++i)
        out << "nucleo_http_request_duration_seconds_bucket{route=\"" << label << "\",le=\"" << buckets[i] << "\"} "
            << h.counts[i] << "\n";
      out << "nucleo_http_request_duration_seconds_bucket{route=\"" << label << "\",le=\"+Inf\"} " << h.total << "\n"
          << "nucleo_http_request_duration_seconds_sum{route=\"" << label << "\"} " << h.sum << "\n"
          << "nucleo_http_request_duration_seconds_count{route=\"" << label << "\"} " << h.total << "\n";
    }
  }
  if (gauges) out << gauges();
  return out.str();
}

}  // namespace nucleo::http
