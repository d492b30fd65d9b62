#include "metrics.hpp"

namespace nucleo::retail {

double rounded_ratio(std::int64_t numerator, std::int64_t denominator) {
  std::int64_t scaled = numerator * 100;
  std::int64_t magnitude = ((scaled < 0 ? -scaled : scaled) * 2 + denominator) / (2 * denominator);
  return static_cast<double>(scaled < 0 ? -magnitude : magnitude) / 100.0;
}

Json figures(const Flows& f, int window_days) {
  auto when = [](bool known, auto value) { return known ? Json(value) : Json(); };
  bool opened = f.opening_snapshots > 0, closed = f.closing_snapshots > 0;
  std::int64_t expected = f.opening + f.received - f.sold;
  return {{"sell_in_units", f.received},
          {"sell_out_units", f.sold},
          {"sell_out_revenue_cents", f.revenue_cents},
          {"opening_on_hand", when(opened, f.opening)},
          {"closing_on_hand", when(closed, f.closing)},
          // What should be on hand: the opening stock plus what came in less what sold.
          {"channel_inventory", when(opened, expected)},
          {"reconciliation_difference", when(opened && closed, f.closing - expected)},
          {"sell_through_percent", when(opened && f.opening + f.received > 0,
                                        opened && f.opening + f.received > 0 ? rounded_ratio(f.sold * 100, f.opening + f.received) : 0)},
          {"avg_daily_sell_out", rounded_ratio(f.window_sold, window_days)},
          {"coverage_days", when(closed && f.window_sold > 0,
                                 closed && f.window_sold > 0 ? rounded_ratio(f.closing * window_days, f.window_sold) : 0)},
          {"weeks_of_supply", when(closed && f.window_sold > 0,
                                   closed && f.window_sold > 0 ? rounded_ratio(f.closing * window_days, f.window_sold * 7) : 0)},
          {"out_of_stock_percent", when(f.snapshots > 0, f.snapshots > 0 ? rounded_ratio(f.empty_snapshots * 100, f.snapshots) : 0)},
          {"sell_in_sell_out_ratio", when(f.sold > 0, f.sold > 0 ? rounded_ratio(f.received, f.sold) : 0)}};
}

std::optional<std::int64_t> reorder_units(const Flows& f, int window_days, int threshold_days, int target_days) {
  if (f.window_sold <= 0 || f.closing_snapshots == 0) return std::nullopt;
  // coverage < threshold  ⇔  closing × window < threshold × window_sold
  if (f.closing * window_days >= static_cast<std::int64_t>(threshold_days) * f.window_sold) return std::nullopt;
  std::int64_t shortfall = static_cast<std::int64_t>(target_days) * f.window_sold - f.closing * window_days;
  if (shortfall <= 0) return std::nullopt;
  return (shortfall + window_days - 1) / window_days;  // whole units, rounded up
}

}  // namespace nucleo::retail
