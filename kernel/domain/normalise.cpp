#include "kernel/domain/normalise.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace nucleo {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool all_same(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return c == s.front(); });
}

// Brazil, Anatel (2016): every mobile number has nine digits starting with 9. A
// ten-digit national number whose subscriber part starts 6–9 is the old eight-digit
// mobile form; the ninth digit goes right after the two-digit area code.
bool add_brazilian_ninth_digit(PhoneNumber& number) {
  if (number.country_code() != 55) return false;
  std::string national = std::to_string(number.national_number());
  if (national.size() != 10 || national[2] < '6') return false;
  number.set_national_number(std::stoull(national.substr(0, 2) + "9" + national.substr(2)));
  return true;
}

// IN RFB 2.229/2024: each character's value is its ASCII code minus 48 ('0'..'9' → 0..9,
// 'A'..'Z' → 17..42); weights cycle 2..9 from the right; DV = 0 when the remainder
// is below 2, else 11 − remainder. The same rule gives the classic numeric CNPJ.
int cnpj_check_digit(std::string_view base) {
  int sum = 0, weight = 2;
  for (auto it = base.rbegin(); it != base.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = weight == 9 ? 2 : weight + 1;
  }
  int remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}

int cpf_check_digit(std::string_view base) {
  int sum = 0, weight = static_cast<int>(base.size()) + 1;
  for (char c : base) sum += (c - '0') * weight--;
  int remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}

bool is_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_upper_alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); });
}

}  // namespace

std::optional<std::string> normalise_email(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 254) return std::nullopt;
  std::string email;
  for (char c : text) email.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos || at > 64)
    return std::nullopt;
  std::string_view domain = std::string_view(email).substr(at + 1);
  auto dot = domain.rfind('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || dot + 3 > domain.size()) return std::nullopt;
  if (domain.find("..") != std::string_view::npos || domain.front() == '-' || email.front() == '.' ||
      email[at - 1] == '.')
    return std::nullopt;
  for (unsigned char c : email)
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' || c == '<' ||
        c == '>' || c == '[' || c == ']' || c == '\\')
      return std::nullopt;
  return email;
}

std::optional<std::string> normalise_phone(std::string_view text, std::string_view default_region) {
  text = trim(text);
  if (text.empty() || text.size() > 40) return std::nullopt;
  auto* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util->Parse(std::string(text), std::string(default_region), &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return std::nullopt;
  if (!util->IsValidNumber(number) && !(add_brazilian_ninth_digit(number) && util->IsValidNumber(number)))
    return std::nullopt;
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

bool is_valid_cpf(std::string_view d) {
  if (d.size() != 11 || !is_digits(d) || all_same(d)) return false;
  return cpf_check_digit(d.substr(0, 9)) == d[9] - '0' && cpf_check_digit(d.substr(0, 10)) == d[10] - '0';
}

bool is_valid_cnpj(std::string_view v) {
  if (v.size() != 14 || !is_upper_alnum(v.substr(0, 12)) || !is_digits(v.substr(12)) || all_same(v)) return false;
  return cnpj_check_digit(v.substr(0, 12)) == v[12] - '0' && cnpj_check_digit(v.substr(0, 13)) == v[13] - '0';
}

std::optional<TaxId> normalise_tax_id(std::string_view text, std::string_view country) {
  TaxId id;
  for (char c : trim(text)) {
    if (c == '.' || c == '-' || c == '/' || c == ' ') continue;  // formatting: 12.ABC.345/01DE-35
    id.value.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (!is_upper_alnum(id.value) || all_same(id.value)) return std::nullopt;
  if (country == "BR") {
    if (id.value.size() == 11 && is_valid_cpf(id.value)) return id.kind = TaxIdKind::cpf, id;
    if (id.value.size() == 14 && is_valid_cnpj(id.value)) return id.kind = TaxIdKind::cnpj, id;
    return std::nullopt;
  }
  if (id.value.size() < 2 || id.value.size() > 32) return std::nullopt;
  return id;
}

bool is_currency_code(std::string_view t) {
  return t.size() == 3 && std::all_of(t.begin(), t.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_country_code(std::string_view t) {
  return t.size() == 2 && std::all_of(t.begin(), t.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_calendar_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return false;
  if (!is_digits(t.substr(0, 4)) || !is_digits(t.substr(5, 2)) || !is_digits(t.substr(8, 2))) return false;
  std::chrono::year_month_day ymd{std::chrono::year{std::stoi(std::string(t.substr(0, 4)))},
                                  std::chrono::month{static_cast<unsigned>(std::stoi(std::string(t.substr(5, 2))))},
                                  std::chrono::day{static_cast<unsigned>(std::stoi(std::string(t.substr(8, 2))))}};
  return ymd.ok();
}

std::string_view to_string(TaxIdKind kind) {
  switch (kind) {
    case TaxIdKind::cpf:
      return "cpf";
    case TaxIdKind::cnpj:
      return "cnpj";
    case TaxIdKind::other:
      return "other";
  }
  return "other";
}

}  // namespace nucleo
