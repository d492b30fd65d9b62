#pragma once

// Money, quantities and dates as a Brazilian reader writes them (docs/proposals.md
// "Rendering"): R$ 1.500.000,00, 2,5, 02/12/2026. Amounts are integer minor units of
// an ISO 4217 currency (docs/architecture.md §3); nothing here uses floating point.

#include <cstdint>
#include <string>
#include <string_view>

namespace nucleo::documents {

// The digits after the decimal separator of a currency's minor unit (ISO 4217): 2 for
// most, 0 for JPY, CLP, KRW…, 3 for KWD, BHD…
int minor_unit_digits(std::string_view currency);

// "R$ 1.500.000,00", "US$ 12,50", "€ 3,00", "JPY 1.200", "-R$ 5,00".
std::string format_money(std::int64_t minor_units, std::string_view currency);

// A quantity in thousandths: 2500 → "2,5", 1000000 → "1.000", 1 → "0,001".
std::string format_quantity(std::int64_t thousandths);

// A percentage in hundredths of a percent: 1050 → "10,5%", 1000 → "10%".
std::string format_percent(std::int64_t hundredths);

// "2026-12-02" → "02/12/2026"; anything else is returned unchanged.
std::string format_date(std::string_view iso_date);

}  // namespace nucleo::documents
