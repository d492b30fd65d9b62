#include "kernel/documents/proposal_pricing.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace nucleo::documents {
namespace {

// Products of quantity and price need more than 64 bits before they are checked.
__extension__ typedef __int128 wide_int;

// A JSON number with at most `decimals` decimal places as an integer scaled by
// 10^decimals; nothing when it is not a number or has more places.
std::optional<std::int64_t> scaled_number(const Json& v, int decimals) {
  std::int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  if (v.is_number_integer()) {
    auto n = v.get<std::int64_t>();
    if (n > max_json_integer / scale || n < -max_json_integer / scale) return std::nullopt;
    return n * scale;
  }
  if (!v.is_number_float()) return std::nullopt;
  double scaled = v.get<double>() * static_cast<double>(scale);
  if (!std::isfinite(scaled) || std::fabs(scaled) > 9e15) return std::nullopt;
  double rounded = std::round(scaled);
  // 2.675 is 2.67499999… as a double: a tolerance far below one unit of the last place.
  if (std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) return std::nullopt;
  return static_cast<std::int64_t>(rounded);
}

std::string pointer(std::size_t line, const char* field) {
  return "/lines/" + std::to_string(line) + "/" + field;
}

}  // namespace

std::int64_t scale_half_up(std::int64_t value, std::int64_t numerator, std::int64_t denominator) {
  wide_int product = static_cast<wide_int>(value) * numerator;
  return static_cast<std::int64_t>((product * 2 + denominator) / (2 * static_cast<wide_int>(denominator)));
}

PricedProposal price_lines(const Json& lines, std::vector<FieldError>& errors) {
  PricedProposal priced;
  if (!lines.is_array()) return errors.push_back({"/lines", "must be an array of line items"}), priced;
  std::size_t errors_before = errors.size();
  wide_int subtotal = 0, discount_total = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Json& line = lines[i];
    std::size_t errors_of_earlier_lines = errors.size();
    PricedLine p;
    if (!line.is_object()) {
      errors.push_back({"/lines/" + std::to_string(i), "must be an object"});
      continue;
    }
    auto quantity = scaled_number(line.value("quantity", Json()), 3);
    if (!quantity)
      errors.push_back({pointer(i, "quantity"), "must be a number with at most 3 decimal places"});
    else if (*quantity <= 0 || *quantity > max_quantity_thousandths)
      errors.push_back({pointer(i, "quantity"), "must be more than 0 and at most 1000000000"});
    const Json& price = line.value("unit_price", Json());
    if (!price.is_number_integer() || price.get<std::int64_t>() < 0 || price.get<std::int64_t>() > max_json_integer)
      errors.push_back({pointer(i, "unit_price"), "must be a non-negative integer in minor units (centavos)"});
    bool has_percent = line.contains("discount_percent") && !line["discount_percent"].is_null();
    bool has_amount = line.contains("discount_amount") && !line["discount_amount"].is_null();
    if (has_percent && has_amount)
      errors.push_back({pointer(i, "discount_amount"), "give discount_percent or discount_amount, not both"});
    std::optional<std::int64_t> percent;
    if (has_percent) {
      percent = scaled_number(line["discount_percent"], 2);
      if (!percent || *percent < 0 || *percent > 10000)
        errors.push_back({pointer(i, "discount_percent"), "must be from 0 to 100 with at most 2 decimal places"});
    }
    if (has_amount) {
      const Json& d = line["discount_amount"];
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
        errors.push_back({pointer(i, "discount_amount"), "must be a non-negative integer in minor units"});
    }
    if (errors.size() > errors_of_earlier_lines) continue;

    p.quantity_thousandths = *quantity;
    p.unit_price = price.get<std::int64_t>();
    wide_int amount = (static_cast<wide_int>(p.quantity_thousandths) * p.unit_price * 2 + 1000) / 2000;
    if (amount > max_json_integer) {
      errors.push_back({pointer(i, "quantity"), "quantity × unit_price is larger than 2^53 − 1 minor units"});
      continue;
    }
    p.amount = static_cast<std::int64_t>(amount);
    if (percent) {
      p.discount_hundredths = *percent;
      p.discount = scale_half_up(p.amount, *percent, 10000);
    } else if (has_amount) {
      p.discount = line["discount_amount"].get<std::int64_t>();
      if (p.discount > p.amount) {
        errors.push_back({pointer(i, "discount_amount"), "is more than the line's amount (" +
                                                             std::to_string(p.amount) + ")"});
        continue;
      }
    }
    p.total = p.amount - p.discount;
    std::int64_t share = p.amount == 0 ? 0 : scale_half_up(p.discount, 10000, p.amount);
    priced.max_line_discount_hundredths = std::max(priced.max_line_discount_hundredths, share);
    subtotal += p.amount;
    discount_total += p.discount;
    priced.lines.push_back(p);
  }
  if (subtotal > max_json_integer)
    errors.push_back({"/lines", "the proposal's subtotal is larger than 2^53 − 1 minor units"});
  if (errors.size() > errors_before) return priced;
  priced.subtotal = static_cast<std::int64_t>(subtotal);
  priced.discount_total = static_cast<std::int64_t>(discount_total);
  priced.total = priced.subtotal - priced.discount_total;
  priced.overall_discount_hundredths =
      priced.subtotal == 0 ? 0 : scale_half_up(priced.discount_total, 10000, priced.subtotal);
  return priced;
}

Json totals_json(const PricedProposal& priced, Json& lines) {
  for (std::size_t i = 0; i < priced.lines.size() && i < lines.size(); ++i) {
    lines[i]["amount"] = priced.lines[i].amount;
    lines[i]["discount"] = priced.lines[i].discount;
    lines[i]["total"] = priced.lines[i].total;
  }
  return {{"subtotal", priced.subtotal}, {"discount_total", priced.discount_total}, {"total", priced.total}};
}

}  // namespace nucleo::documents
