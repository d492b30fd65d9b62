#pragma once

// What the retail pack computes from a retailer's sell-in, sell-out and inventory over a
// period (docs/verticals/retail.md, "The figures"): pure integer arithmetic on the sums
// the kernel's aggregates return, each ratio rounded once, half away from zero, to two
// decimals.

#include <cstdint>
#include <optional>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::retail {

using nucleo::sdk::Json;

// One group's sums (a retailer, a store, a product, a store's product) for a period
// [from, to] and a trailing window of `window_days` ending on `to`.
struct Flows {
  std::int64_t received = 0;       // sell-in units in the period
  std::int64_t sold = 0;           // sell-out units in the period
  std::int64_t revenue_cents = 0;  // sell-out revenue in the period
  std::int64_t window_sold = 0;    // sell-out units in the window
  std::int64_t opening = 0;        // on hand the day before the period (its snapshots' sum)
  std::int64_t closing = 0;        // on hand on its last day
  std::int64_t opening_snapshots = 0, closing_snapshots = 0;
  std::int64_t snapshots = 0, empty_snapshots = 0;  // in the period; those with nothing on hand
};

// num ÷ den to two decimals, half away from zero (den > 0): 2 ÷ 3 → 0.67.
double rounded_ratio(std::int64_t numerator, std::int64_t denominator);

// {"sell_in_units", "sell_out_units", "sell_out_revenue_cents", "opening_on_hand",
//  "closing_on_hand", "channel_inventory", "reconciliation_difference",
//  "sell_through_percent", "avg_daily_sell_out", "coverage_days", "weeks_of_supply",
//  "out_of_stock_percent", "sell_in_sell_out_ratio"}; a figure without its inputs (no
// snapshot, nothing sold) is null.
Json figures(const Flows& f, int window_days);

// Units to order so that on-hand covers `target_days` of the window's average daily
// sell-out (rounded up), when coverage is below `threshold_days`; nothing otherwise
// (or when nothing sold in the window).
std::optional<std::int64_t> reorder_units(const Flows& f, int window_days, int threshold_days, int target_days);

}  // namespace nucleo::retail
