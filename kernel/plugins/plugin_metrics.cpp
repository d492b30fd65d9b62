#include <cctype>
#include <cmath>

#include "kernel/domain/error.hpp"
#include "kernel/plugins/host.hpp"

namespace nucleo::plugins {
namespace {

bool is_metric_name(const std::string& s) {
  if (s.empty() || s.size() > 100 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

}  // namespace

void PluginMetrics::add(const std::string& plugin_id, const std::string& name, const Json& labels, double value,
                        bool is_counter) {
  if (!is_metric_name(name))
    throw Error(ErrorCode::validation, "metric name '" + name + "' must be lower-case letters, digits and _");
  if (!std::isfinite(value) || (is_counter && value < 0))
    throw Error(ErrorCode::validation, "metric " + name + ": " + (is_counter ? "a counter only grows" : "not a number"));
  if (!labels.is_object() || labels.size() > 10)
    throw Error(ErrorCode::validation, "metric " + name + ": labels must be an object of at most 10 strings");
  MetricLabels key{{"plugin", plugin_id}};
  for (const auto& [k, v] : labels.items()) {
    if (!is_metric_name(k) || k == "plugin" || !v.is_string())
      throw Error(ErrorCode::validation, "metric " + name + ": label '" + k + "' must be a lower-case name other than "
                                                                              "'plugin' with a string value");
    key.emplace_back(k, v.get<std::string>());
  }
  std::lock_guard lock(mutex_);
  auto& by_labels = series_[name];
  auto found = by_labels.find(key);
  if (found == by_labels.end()) {
    if (!by_labels.empty() && by_labels.begin()->second.is_counter != is_counter)
      throw Error(ErrorCode::validation, "metric " + name + " is already a " + (is_counter ? "gauge" : "counter"));
    if (series_count_[plugin_id] >= max_series_per_plugin)
      throw Error(ErrorCode::validation, "plugin " + plugin_id + " has reached " +
                                             std::to_string(max_series_per_plugin) + " metric series");
    ++series_count_[plugin_id];
    found = by_labels.emplace(key, Series{is_counter, 0}).first;
  } else if (found->second.is_counter != is_counter) {
    throw Error(ErrorCode::validation, "metric " + name + " is already a " + (is_counter ? "gauge" : "counter"));
  }
  found->second.value = is_counter ? found->second.value + value : value;
}

std::string PluginMetrics::render() const {
  std::lock_guard lock(mutex_);
  PrometheusText out;
  for (const auto& [name, by_labels] : series_) {
    if (by_labels.empty()) continue;
    out.family("nucleo_plugin_" + name, by_labels.begin()->second.is_counter ? "counter" : "gauge");
    for (const auto& [labels, series] : by_labels) out.sample("nucleo_plugin_" + name, labels, series.value);
  }
  return out.str();
}

}  // namespace nucleo::plugins
