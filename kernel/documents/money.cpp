#include "kernel/documents/money.hpp"

#include <array>
#include <cstdlib>

namespace nucleo::documents {
namespace {

// "1234567" → "1.234.567"
std::string group_thousands(std::string digits) {
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(static_cast<std::size_t>(at), ".");
  return digits;
}

// The integer part grouped, then up to `decimals` digits after a comma; trailing zeros
// dropped unless `keep_zeros` (money keeps them: R$ 10,00).
std::string decimal_text(std::int64_t scaled, int decimals, bool keep_zeros) {
  bool negative = scaled < 0;
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(scaled) : static_cast<std::uint64_t>(scaled);
  std::uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  std::string text = group_thousands(std::to_string(magnitude / unit));
  if (decimals > 0) {
    std::string fraction = std::to_string(magnitude % unit);
    fraction.insert(0, static_cast<std::size_t>(decimals) - fraction.size(), '0');
    if (!keep_zeros)
      while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) text += "," + fraction;
  }
  return negative ? "-" + text : text;
}

}  // namespace

int minor_unit_digits(std::string_view currency) {
  static constexpr std::array<std::string_view, 16> none{"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                                         "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"};
  static constexpr std::array<std::string_view, 7> three{"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  for (auto c : none)
    if (c == currency) return 0;
  for (auto c : three)
    if (c == currency) return 3;
  return 2;
}

std::string format_money(std::int64_t minor_units, std::string_view currency) {
  std::string symbol = currency == "BRL" ? "R$" : currency == "USD" ? "US$" : currency == "EUR" ? "€" : std::string(currency);
  std::string amount = decimal_text(minor_units, minor_unit_digits(currency), true);
  if (amount.front() == '-') return "-" + symbol + " " + amount.substr(1);
  return symbol + " " + amount;
}

std::string format_quantity(std::int64_t thousandths) { return decimal_text(thousandths, 3, false); }

std::string format_percent(std::int64_t hundredths) { return decimal_text(hundredths, 2, false) + "%"; }

std::string format_date(std::string_view iso_date) {
  if (iso_date.size() != 10 || iso_date[4] != '-' || iso_date[7] != '-') return std::string(iso_date);
  return std::string(iso_date.substr(8, 2)) + "/" + std::string(iso_date.substr(5, 2)) + "/" +
         std::string(iso_date.substr(0, 4));
}

}  // namespace nucleo::documents
