#pragma once

// What the pack computes about an institution from its records, as pure functions the
// routes feed: purchase history (recency, frequency, value) and the institution's
// history merged from its own timeline and its units'.

#include <string>
#include <vector>

#include "common/dates.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare {

using nucleo::sdk::Json;

using verticals::add_days;
using verticals::date_of_micros;
using verticals::days_between;
using verticals::micros_of;

// Orders' documents ({"ordered_on", "value_cents"}) → {"orders", "value_cents",
// "last_order_on", "recency_days", "orders_12m", "value_cents_12m"}, as of a date: the
// last twelve months are the 365 days ending on it; orders after it do not count.
Json purchase_summary(const std::vector<Json>& orders, const std::string& as_of);

// The newest `limit` items of several timelines (each newest first, items {"kind", "at",
// "id", …}), newest first, ties by id as the kernel orders them.
std::vector<Json> merge_newest(std::vector<std::vector<Json>> timelines, std::size_t limit);

}  // namespace nucleo::healthcare
