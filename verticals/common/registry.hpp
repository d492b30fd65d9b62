#pragma once

// What vertical packs share about Brazil's public registries (DATASUS CNES extracts, the
// CGU PEP list): identifiers and their check digits, ISO-8859-1 text, ';'-separated
// exports with a header line, dd/MM/yyyy dates, and names folded for matching. Plugin
// code only: nothing here knows the kernel.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::verticals {

// The digits of `text` ("11.222.333/0001-81" → "11222333000181").
std::string digits_of(std::string_view text);

// A CNPJ (14 digits) or CPF (11 digits) whose check digits hold (mod 11, Receita Federal).
bool valid_cnpj(std::string_view digits);
bool valid_cpf(std::string_view digits);

// GS1 identifiers whose mod-10 check digit holds: a GTIN (8, 12, 13 or 14 digits — a
// product's EAN/UPC barcode) or a GLN (13 digits — a store's or a warehouse's location).
bool valid_gtin(std::string_view digits);
bool valid_gln(std::string_view digits);

// ISO-8859-1 bytes as UTF-8 (every byte is a character: the conversion cannot fail).
std::string latin1_to_utf8(std::string_view latin1);

// Whether `bytes` holds a UTF-8 multi-byte sequence — text that was re-encoded before it
// reached a reader expecting ISO-8859-1 ("JoÃ£o"): Portuguese in Latin-1 never does.
bool holds_utf8_sequences(std::string_view bytes);

// Whether `bytes` is well-formed UTF-8 (ASCII is): a line that is not was written in
// another encoding, most often ISO-8859-1.
bool valid_utf8(std::string_view bytes);

// A registry line as UTF-8: kept as it is when it is valid UTF-8 (a re-saved file),
// read as ISO-8859-1 otherwise (the government's exports) — line by line, so one file
// may mix them.
std::string utf8_line(std::string_view line);

// One line of a ';'-separated export: fields split on `separator`, double quotes around a
// field removed ("" inside one is a quote). Throws std::invalid_argument on an unclosed quote.
std::vector<std::string> split_fields(std::string_view line, char separator = ';');

// dd/MM/yyyy (or yyyy-MM-dd) → yyyy-MM-dd when the date exists; nothing otherwise.
std::optional<std::string> iso_date(std::string_view text);

// A name as screening compares it: accents removed (Latin-1 range), upper case, anything
// but letters and digits a single space, trimmed ("José  da Silva-Neto" → "JOSE DA SILVA NETO").
std::string folded_name(std::string_view utf8);

// A header line's columns by name (upper case, trimmed), for files whose column order
// may change between releases of the registry.
class Columns {
 public:
  explicit Columns(const std::vector<std::string>& header);
  // The names of `required` the header lacks, comma-separated; empty when none.
  std::string missing(const std::vector<std::string>& required) const;
  // The field of `row` under `name` (trimmed), or "" when the column or the field is absent.
  std::string get(const std::vector<std::string>& row, const std::string& name) const;
  std::size_t size() const { return index_.size(); }

 private:
  std::map<std::string, std::size_t> index_;
};

}  // namespace nucleo::verticals
