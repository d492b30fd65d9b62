#include "institutions.hpp"

#include <algorithm>

namespace nucleo::healthcare {

Json purchase_summary(const std::vector<Json>& orders, const std::string& as_of) {
  long orders_count = 0, recent_count = 0;
  std::int64_t value = 0, recent_value = 0;
  std::string last;
  std::string year_ago = add_days(as_of, -365);
  for (const auto& o : orders) {
    std::string on = o.value("ordered_on", "");
    if (on.empty() || on > as_of) continue;
    std::int64_t cents = o.value("value_cents", std::int64_t{0});
    ++orders_count;
    value += cents;
    if (on > year_ago) {
      ++recent_count;
      recent_value += cents;
    }
    last = std::max(last, on);
  }
  return {{"orders", orders_count},
          {"value_cents", value},
          {"last_order_on", last.empty() ? Json() : Json(last)},
          {"recency_days", last.empty() ? Json() : Json(days_between(last, as_of))},
          {"orders_12m", recent_count},
          {"value_cents_12m", recent_value}};
}

std::vector<Json> merge_newest(std::vector<std::vector<Json>> timelines, std::size_t limit) {
  std::vector<Json> all;
  for (auto& t : timelines)
    for (auto& item : t) all.push_back(std::move(item));
  // By the instant (the kernel leaves out zero fractions, so the text does not sort), then
  // the id, as the kernel orders a timeline.
  auto key = [](const Json& item) { return std::pair(micros_of(item.value("at", "")), item.value("id", "")); };
  std::sort(all.begin(), all.end(), [&](const Json& a, const Json& b) { return key(a) > key(b); });
  if (all.size() > limit) all.resize(limit);
  return all;
}

}  // namespace nucleo::healthcare
