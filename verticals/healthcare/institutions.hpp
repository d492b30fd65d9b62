#pragma once

// What the pack computes about an institution from its records, as pure functions the
// routes feed: purchase history (recency, frequency, value) and the institution's
// history merged from its own timeline and its units'.

#include <string>
#include <vector>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare {

using nucleo::sdk::Json;

// Days between two ISO dates (later - earlier); throws on a malformed date.
long days_between(const std::string& earlier, const std::string& later);
// The ISO date `days` after (or before, negative) `date`.
std::string add_days(const std::string& date, long days);
// An RFC 3339 time in UTC ("2026-07-01T12:34:56.5Z") as µs since the epoch.
std::int64_t micros_of(const std::string& rfc3339_utc);
// The UTC date of an instant in µs since the epoch.
std::string date_of_micros(std::int64_t micros);

// Orders' documents ({"ordered_on", "value_cents"}) → {"orders", "value_cents",
// "last_order_on", "recency_days", "orders_12m", "value_cents_12m"}, as of a date: the
// last twelve months are the 365 days ending on it; orders after it do not count.
Json purchase_summary(const std::vector<Json>& orders, const std::string& as_of);

// The newest `limit` items of several timelines (each newest first, items {"kind", "at",
// "id", …}), newest first, ties by id as the kernel orders them.
std::vector<Json> merge_newest(std::vector<std::vector<Json>> timelines, std::size_t limit);

}  // namespace nucleo::healthcare
