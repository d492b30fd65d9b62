#include "kernel/domain/prometheus_text.hpp"

#include <cmath>
#include <cstdint>

namespace nucleo {
namespace {

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<std::int64_t>(value));
  std::ostringstream out;
  out.precision(15);  // enough for a measurement, and 0.0025 prints as 0.0025
  out << value;
  return out.str();
}

}  // namespace

std::string prometheus_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

PrometheusText& PrometheusText::family(const std::string& name, const std::string& type, const std::string& help) {
  if (!help.empty()) out_ << "# HELP " << name << " " << help << "\n";
  out_ << "# TYPE " << name << " " << type << "\n";
  return *this;
}

PrometheusText& PrometheusText::sample(const std::string& name, const MetricLabels& labels, double value) {
  out_ << name;
  if (!labels.empty()) {
    out_ << "{";
    for (std::size_t i = 0; i < labels.size(); ++i)
      out_ << (i ? "," : "") << labels[i].first << "=\"" << prometheus_label(labels[i].second) << "\"";
    out_ << "}";
  }
  out_ << " " << number(value) << "\n";
  return *this;
}

PrometheusText& PrometheusText::histogram(const std::string& name, const MetricLabels& labels,
                                          const std::vector<double>& bounds,
                                          const std::vector<std::uint64_t>& cumulative_counts, std::uint64_t count,
                                          double sum) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    MetricLabels with_bound = labels;
    with_bound.emplace_back("le", number(bounds[i]));
    sample(name + "_bucket", with_bound, static_cast<double>(cumulative_counts[i]));
  }
  MetricLabels infinite = labels;
  infinite.emplace_back("le", "+Inf");
  sample(name + "_bucket", infinite, static_cast<double>(count));
  sample(name + "_sum", labels, sum);
  return sample(name + "_count", labels, static_cast<double>(count));
}

}  // namespace nucleo
