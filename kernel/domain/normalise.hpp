#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nucleo {

// Normalisation on write (docs/architecture.md §4). Each function returns the canonical form, or
// nothing when the input is not a valid value of its kind; callers turn that into a
// FieldError naming the field.

// Trimmed and lower-cased; one '@', a dotted domain, no spaces, ≤ 254 characters.
std::optional<std::string> normalise_email(std::string_view text);

// E.164 ("+5511987654321") via libphonenumber, reading national numbers in
// `default_region` (ISO 3166 alpha-2, "BR" by default in configuration).
// Brazilian mobiles written without the ninth digit (pre-2016 form, "11 8765-4321")
// get it inserted, so both forms normalise — and therefore match — identically.
std::optional<std::string> normalise_phone(std::string_view text, std::string_view default_region);

enum class TaxIdKind { cpf, cnpj, other };

struct TaxId {
  std::string value;  // upper-cased, punctuation stripped
  TaxIdKind kind = TaxIdKind::other;
};

// Brazil ("BR"): 11 digits = CPF, 14 characters = CNPJ (numeric or, since July 2026,
// alphanumeric per IN RFB 2.229/2024), check digits verified, all-same-character
// values refused. Other countries: upper-cased alphanumerics, 2–32 characters.
std::optional<TaxId> normalise_tax_id(std::string_view text, std::string_view country);

bool is_valid_cpf(std::string_view digits);  // 11 digits, normalised
bool is_valid_cnpj(std::string_view value);  // 14 characters, normalised

// ISO 4217 shape: three upper-case ASCII letters.
bool is_currency_code(std::string_view text);
// ISO 3166-1 alpha-2 shape: two upper-case ASCII letters.
bool is_country_code(std::string_view text);
// A calendar date "YYYY-MM-DD" that exists.
bool is_calendar_date(std::string_view text);

std::string_view to_string(TaxIdKind kind);

}  // namespace nucleo
