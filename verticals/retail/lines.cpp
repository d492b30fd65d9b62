#include "lines.hpp"

#include <cctype>

#include "common/pack.hpp"

namespace nucleo::retail {
namespace {

std::optional<std::int64_t> integer_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t start = text[0] == '-' ? 1 : 0;
  if (start == text.size() || text.size() > 15 || text.find_first_not_of("0123456789", start) != std::string::npos)
    return std::nullopt;
  return std::stoll(text);
}

}  // namespace

std::string fact_set_of(LineKind kind) {
  return kind == LineKind::sell_in ? "sell_in" : kind == LineKind::sell_out ? "sell_out" : "inventory";
}

std::string format_name_of(LineKind kind) { return "retail_" + fact_set_of(kind); }

const std::vector<std::string>& required_columns(LineKind kind) {
  static const std::vector<std::string> sell_in{"DATE", "RETAILER_CNPJ", "GLN", "GTIN", "UNITS"};
  static const std::vector<std::string> sell_out{"PERIOD_END", "RETAILER_CNPJ", "STORE_GLN", "GTIN", "UNITS", "REVENUE"};
  static const std::vector<std::string> inventory{"DATE", "RETAILER_CNPJ", "GLN", "GTIN", "ON_HAND"};
  return kind == LineKind::sell_in ? sell_in : kind == LineKind::sell_out ? sell_out : inventory;
}

Header header_of(LineKind kind, std::string_view line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  Header header;
  header.separator = line.find(';') == std::string_view::npos && line.find(',') != std::string_view::npos ? ',' : ';';
  try {
    header.columns = verticals::split_fields(line, header.separator);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("not a ") + fact_set_of(kind) + " file: its header has " + e.what());
  }
  for (auto& c : header.columns)
    for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string missing = verticals::Columns(header.columns).missing(required_columns(kind));
  if (!missing.empty()) {
    std::string expected;
    for (const auto& c : required_columns(kind)) expected += (expected.empty() ? "" : ";") + c;
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "not a " + fact_set_of(kind) + " file (" + expected + "): the header lacks " + missing);
  }
  return header;
}

std::optional<std::int64_t> cents_of(std::string_view text) {
  std::string t(text);
  bool negative = !t.empty() && t[0] == '-';
  if (negative) t.erase(0, 1);
  std::string whole, fraction;
  if (t.find(',') != std::string::npos) {  // 1.234,56: dots group thousands
    whole = t.substr(0, t.find(','));
    fraction = t.substr(t.find(',') + 1);
    std::string digits;
    for (char c : whole)
      if (c != '.') digits += c;
    whole = digits;
  } else if (t.find('.') != std::string::npos) {
    whole = t.substr(0, t.find('.'));
    fraction = t.substr(t.find('.') + 1);
  } else {
    whole = t;
  }
  if (whole.empty() || whole.size() > 13 || whole.find_first_not_of("0123456789") != std::string::npos || fraction.size() > 2 ||
      fraction.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  std::int64_t cents = std::stoll(whole) * 100 + (fraction.empty() ? 0 : std::stoll((fraction + "0").substr(0, 2)));
  return negative ? -cents : cents;
}

std::variant<Json, std::string> fact_of(LineKind kind, const verticals::Columns& columns, char separator,
                                        std::string_view line) {
  std::vector<std::string> row;
  try {
    row = verticals::split_fields(line, separator);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  if (row.size() != columns.size())
    return "has " + std::to_string(row.size()) + " fields; the header has " + std::to_string(columns.size());
  auto get = [&](const char* name) { return columns.get(row, name); };
  const char* date_column = kind == LineKind::sell_out ? "PERIOD_END" : "DATE";
  auto day = verticals::iso_date(get(date_column));
  if (!day) return std::string(date_column) + " '" + get(date_column) + "' is not a date (dd/mm/yyyy or yyyy-mm-dd)";
  std::string retailer = verticals::digits_of(get("RETAILER_CNPJ"));
  if (!verticals::valid_cnpj(retailer)) return "RETAILER_CNPJ '" + get("RETAILER_CNPJ") + "' is not a valid CNPJ";
  const char* location_column = kind == LineKind::sell_out ? "STORE_GLN" : "GLN";
  std::string location = get(location_column);
  if (!verticals::valid_gln(location)) return std::string(location_column) + " '" + location + "' is not a GLN (13 digits, GS1 check digit)";
  std::string gtin = get("GTIN");
  if (!verticals::valid_gtin(gtin)) return "GTIN '" + gtin + "' is not a GTIN (8, 12, 13 or 14 digits, GS1 check digit)";
  Json fact{{"retailer", retailer}, {"location", location}, {"gtin", gtin}, {"day", *day}};
  const char* units_column = kind == LineKind::inventory ? "ON_HAND" : "UNITS";
  auto units = integer_of(get(units_column));
  if (!units || (kind == LineKind::inventory && *units < 0))
    return std::string(units_column) + " '" + get(units_column) + "' is not " +
           (kind == LineKind::inventory ? "a count of units (0 or more)" : "a whole number of units");
  fact[kind == LineKind::inventory ? "on_hand" : "units"] = *units;
  if (kind != LineKind::inventory) {
    const char* money_column = kind == LineKind::sell_out ? "REVENUE" : "VALUE";
    std::string money = get(money_column);
    if (!money.empty() || kind == LineKind::sell_out) {
      auto cents = cents_of(money);
      if (!cents) return std::string(money_column) + " '" + money + "' is not an amount in reais (1.234,56 or 1234.56)";
      fact[kind == LineKind::sell_out ? "revenue_cents" : "value_cents"] = *cents;
    }
  }
  if (kind == LineKind::sell_out && !get("PERIOD_START").empty()) {
    auto start = verticals::iso_date(get("PERIOD_START"));
    if (!start || *start > *day) return "PERIOD_START '" + get("PERIOD_START") + "' is not a date on or before PERIOD_END";
  }
  return fact;
}

}  // namespace nucleo::retail
