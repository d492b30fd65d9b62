#pragma once

// A proposal's line items priced (docs/proposals.md "Totals and rounding"): exact integer
// arithmetic on minor units, quantities in thousandths and percentages in hundredths.
//
//   amount   = quantity × unit_price, rounded half up to the minor unit
//   discount = amount × discount_percent / 100, rounded half up — or discount_amount
//   total    = amount − discount
//   subtotal, discount_total, total: the sums over the lines
//
// Every figure stays within ±(2^53 − 1), the integers JSON carries exactly.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/domain/error.hpp"

namespace nucleo::documents {

using Json = nlohmann::json;

struct PricedLine {
  std::int64_t quantity_thousandths = 0;
  std::int64_t unit_price = 0;
  std::int64_t discount_hundredths = 0;  // of a percent; 0 when the discount is an amount
  std::int64_t amount = 0;               // before the discount
  std::int64_t discount = 0;
  std::int64_t total = 0;
};

struct PricedProposal {
  std::vector<PricedLine> lines;
  std::int64_t subtotal = 0;
  std::int64_t discount_total = 0;
  std::int64_t total = 0;
  // The largest discount of one line as a share of its amount, in hundredths of a
  // percent (what a discount approval threshold is compared with), and of the whole.
  std::int64_t max_line_discount_hundredths = 0;
  std::int64_t overall_discount_hundredths = 0;
};

// Largest line quantity and unit price accepted.
inline constexpr std::int64_t max_quantity_thousandths = 1'000'000'000'000;  // a billion units
inline constexpr std::int64_t max_json_integer = 9'007'199'254'740'991;      // 2^53 − 1

// Prices `lines` — each {"quantity", "unit_price", "discount_percent"? | "discount_amount"?}
// with any other keys left to the caller — adding an error per offending value to
// `errors`, named by JSON pointer ("/lines/2/quantity"). The result is meaningful only
// when no error was added.
PricedProposal price_lines(const Json& lines, std::vector<FieldError>& errors);

// Writes the priced figures into the lines ("amount", "discount", "total") and returns
// {"subtotal", "discount_total", "total"}.
Json totals_json(const PricedProposal& priced, Json& lines);

// `value` × numerator / denominator rounded half up (values are never negative here).
std::int64_t scale_half_up(std::int64_t value, std::int64_t numerator, std::int64_t denominator);

}  // namespace nucleo::documents
