#pragma once

// The retail pack's files (docs/verticals/retail.md): sell-in, sell-out and inventory lines
// in one CSV layout each, read a line at a time into facts of the pack's fact sets —
// every identifier checked (CNPJ, GLN and GTIN check digits), money in centavos, units as
// integers, nothing rounded.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::retail {

using nucleo::sdk::Json;

enum class LineKind { sell_in, sell_out, inventory };

// The fact set a kind writes, its import format's name, and the columns its header needs.
std::string fact_set_of(LineKind kind);
std::string format_name_of(LineKind kind);
const std::vector<std::string>& required_columns(LineKind kind);

// A header line: its columns by name (upper case) and separator (';' unless the line has
// none and has ','). Throws sdk::Error (INVALID_ARGUMENT) naming the missing columns.
struct Header {
  std::vector<std::string> columns;
  char separator = ';';
};
Header header_of(LineKind kind, std::string_view line);

// One line as the fact it reports ({"retailer", "location", "gtin", "day", measures…}),
// or why it is not one.
std::variant<Json, std::string> fact_of(LineKind kind, const verticals::Columns& columns, char separator,
                                        std::string_view line);

// "1.234,56" (Brazilian) or "1234.56" → centavos; at most two decimals; nothing otherwise.
std::optional<std::int64_t> cents_of(std::string_view text);

}  // namespace nucleo::retail
