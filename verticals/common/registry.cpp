#include "common/registry.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace nucleo::verticals {
namespace {

std::string trimmed(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  return std::string(s.substr(first, s.find_last_not_of(" \t\r") - first + 1));
}

// Receita Federal's mod-11 digit over `digits` with weights counting down from `top`
// (CPF) or cycling 2..9 from the right (CNPJ).
int check_digit(std::string_view digits, bool cnpj) {
  int sum = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    std::size_t from_right = digits.size() - i;  // 1-based
    int weight = cnpj ? static_cast<int>((from_right - 1) % 8 + 2) : static_cast<int>(from_right + 1);
    sum += (digits[i] - '0') * weight;
  }
  int rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_with_checks(std::string_view digits, std::size_t size, bool cnpj) {
  if (digits.size() != size || !all_digits(digits)) return false;
  if (digits.find_first_not_of(digits[0]) == std::string_view::npos) return false;  // 000…, 111…
  std::string_view body = digits.substr(0, size - 2);
  int first = check_digit(body, cnpj);
  std::string with_first = std::string(body) + static_cast<char>('0' + first);
  int second = check_digit(with_first, cnpj);
  return digits[size - 2] - '0' == first && digits[size - 1] - '0' == second;
}

// The base letter of a Latin-1 letter with a diacritic (À → A, ç → c), or 0.
char base_letter(unsigned code) {
  static const char* upper = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTs";  // U+00C0..U+00DF
  static const char* lower = "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0..U+00FF
  if (code >= 0xC0 && code <= 0xDF) return upper[code - 0xC0];
  if (code >= 0xE0 && code <= 0xFF) return lower[code - 0xE0];
  return 0;
}

}  // namespace

std::string digits_of(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c >= '0' && c <= '9') out += c;
  return out;
}

bool valid_cnpj(std::string_view digits) { return valid_with_checks(digits, 14, true); }
bool valid_cpf(std::string_view digits) { return valid_with_checks(digits, 11, false); }

std::string latin1_to_utf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size() + latin1.size() / 8);
  for (unsigned char c : latin1) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool holds_utf8_sequences(std::string_view bytes) {
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    auto lead = static_cast<unsigned char>(bytes[i]), next = static_cast<unsigned char>(bytes[i + 1]);
    if (lead >= 0xC2 && lead <= 0xDF && (next & 0xC0) == 0x80) return true;
    if (lead >= 0xE0 && lead <= 0xEF && i + 2 < bytes.size() && (next & 0xC0) == 0x80 &&
        (static_cast<unsigned char>(bytes[i + 2]) & 0xC0) == 0x80)
      return true;
  }
  return false;
}

namespace {
// Weights 3 and 1 from the right; the last digit makes the sum a multiple of 10.
bool gs1_check_digit_holds(std::string_view digits) {
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
  int sum = 0;
  for (std::size_t i = 0; i + 1 < digits.size(); ++i) sum += (digits[i] - '0') * ((digits.size() - 1 - i) % 2 ? 3 : 1);
  return (10 - sum % 10) % 10 == digits.back() - '0';
}
}  // namespace

bool valid_gtin(std::string_view d) {
  return (d.size() == 8 || d.size() == 12 || d.size() == 13 || d.size() == 14) && gs1_check_digit_holds(d);
}

bool valid_gln(std::string_view d) { return d.size() == 13 && gs1_check_digit_holds(d); }

bool valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t length = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
    if (length == 0 || i + length > bytes.size()) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(bytes[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

std::string utf8_line(std::string_view line) { return valid_utf8(line) ? std::string(line) : latin1_to_utf8(line); }

std::vector<std::string> split_fields(std::string_view line, char separator) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trimmed(field).empty() && !was_quoted) {
      field.clear();
      quoted = was_quoted = true;
    } else if (c == separator) {
      fields.push_back(was_quoted ? field : trimmed(field));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  if (quoted) throw std::invalid_argument("a quoted field is not closed");
  fields.push_back(was_quoted ? field : trimmed(field));
  return fields;
}

std::optional<std::string> iso_date(std::string_view text) {
  std::string t = trimmed(text);
  int day = 0, month = 0, year = 0;
  auto number = [&](std::size_t at, std::size_t size, int& out) {
    if (at + size > t.size()) return false;
    std::string part = t.substr(at, size);
    if (!all_digits(part)) return false;
    out = std::stoi(part);
    return true;
  };
  bool ok = t.size() == 10 && ((t[2] == '/' && t[5] == '/' && number(0, 2, day) && number(3, 2, month) && number(6, 4, year)) ||
                               (t[4] == '-' && t[7] == '-' && number(0, 4, year) && number(5, 2, month) && number(8, 2, day)));
  if (!ok || month < 1 || month > 12 || day < 1 || year < 1900) return std::nullopt;
  static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > days_in[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  char out[11];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", year, month, day);
  return std::string(out);
}

std::string folded_name(std::string_view utf8) {
  std::string out;
  bool space = false;
  auto put = [&](char c) {
    if (c == ' ') {
      space = !out.empty();
      return;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  };
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      put(std::isalnum(c) ? static_cast<char>(c) : ' ');
    } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
      unsigned code = ((c & 0x1F) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3F);
      ++i;
      char base = base_letter(code);
      put(base && base != 'x' && base != '/' ? base : ' ');
    } else {
      put(' ');  // outside Latin-1: a separator, never silently a letter
      while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

Columns::Columns(const std::vector<std::string>& header) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string name = trimmed(header[i]);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    index_.emplace(name, i);
  }
}

std::string Columns::missing(const std::vector<std::string>& required) const {
  std::string out;
  for (const auto& name : required)
    if (!index_.count(name)) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string Columns::get(const std::vector<std::string>& row, const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end() || it->second >= row.size()) return "";
  return trimmed(row[it->second]);
}

}  // namespace nucleo::verticals
