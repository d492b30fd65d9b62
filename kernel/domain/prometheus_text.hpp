#pragma once

// The Prometheus text exposition format, version 0.0.4 — the one writer of /metrics
// (ADR 0020): the request histograms, the gauges read at scrape time and the plugins'
// own series all go through it, so escaping and number formatting live here only.

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace nucleo {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;  // in the order written

class PrometheusText {
 public:
  // A family's "# HELP" (when given) and "# TYPE" lines; type is counter, gauge or
  // histogram. Write it once, before its samples.
  PrometheusText& family(const std::string& name, const std::string& type, const std::string& help = "");
  // One sample line: name{label="value",…} value. Integral values print as integers.
  PrometheusText& sample(const std::string& name, const MetricLabels& labels, double value);
  PrometheusText& sample(const std::string& name, double value) { return sample(name, {}, value); }
  // A histogram's _bucket lines (cumulative counts per upper bound, then +Inf), _sum
  // and _count, with `labels` on each.
  PrometheusText& histogram(const std::string& name, const MetricLabels& labels, const std::vector<double>& bounds,
                            const std::vector<std::uint64_t>& cumulative_counts, std::uint64_t count, double sum);

  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

// A label value escaped for the format: backslash, double quote and newline.
std::string prometheus_label(const std::string& value);

}  // namespace nucleo
