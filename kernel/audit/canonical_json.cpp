#include "kernel/audit/canonical_json.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"

namespace nucleo::audit {
namespace {

constexpr std::size_t max_depth = 64;  // leaves nest four deep; deeper input is hostile

Error outside_value_space(const std::string& what) {
  return Error(ErrorCode::validation, "not in the audit leaf value space: " + what);
}

bool plain_key(const std::string& key) {
  for (char c : key)
    if (static_cast<unsigned char>(c) >= 0x80 || c == '%') return false;
  return true;
}

std::string percent_encoded(const std::string& key) {
  std::string out;
  for (char c : key) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x80 || c == '%') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", b);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void write_canonical(std::string& out, const Json& v, std::size_t depth) {
  if (depth > max_depth) throw outside_value_space("nested deeper than 64 levels");
  switch (v.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      // nlohmann keeps keys in a std::map: bytewise order, which is JCS order for ASCII.
      for (const auto& [key, member] : v.items()) {
        for (char c : key)
          if (static_cast<unsigned char>(c) >= 0x80) throw outside_value_space("non-ASCII key \"" + key + "\"");
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);  // JCS escapes exactly as the API writer does
        out.push_back(':');
        write_canonical(out, member, depth + 1);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out.push_back(',');
        write_canonical(out, v[i], depth + 1);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (!is_valid_utf8(s)) throw outside_value_space("a string that is not valid UTF-8");
      append_json_string(out, s);
      return;
    }
    case Json::value_t::number_integer: {
      auto i = v.get<std::int64_t>();
      if (i > max_safe_integer || i < -max_safe_integer) throw outside_value_space("integer " + std::to_string(i));
      out += std::to_string(i);
      return;
    }
    case Json::value_t::number_unsigned: {
      auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max_safe_integer)) throw outside_value_space("integer " + std::to_string(u));
      out += std::to_string(u);
      return;
    }
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::null:
      out += "null";
      return;
    default:
      throw outside_value_space(std::string("a ") + v.type_name() + " value");
  }
}

// The one-pass checker behind check_canonical().
class CanonicalChecker {
 public:
  CanonicalChecker(std::string_view text, std::string_view capture_key)
      : text_(text), capture_key_(capture_key) {}

  std::optional<std::int64_t> captured() const { return captured_; }

  std::optional<CanonicalError> run() {
    if (!value(0)) return error_;
    if (pos_ != text_.size()) return CanonicalError{pos_, "trailing bytes after the value"};
    return std::nullopt;
  }

 private:
  // Cold and out of line: keeps the error strings out of the hot functions' frames.
  [[gnu::cold, gnu::noinline]] bool fail(std::string message) {
    error_ = CanonicalError{pos_, std::move(message)};
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool fail(const char* message) { return fail(std::string(message)); }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  bool value(std::size_t depth) {
    if (depth > max_depth) return fail("nested deeper than 64 levels");
    if (at_end()) return fail("unexpected end of input");
    switch (peek()) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': {
        StringSpan ignored;
        return string(ignored);
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return integer();
        return fail(std::string("unexpected character '") + peek() + "'");
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  // Keys without escapes are compared as they stand: for ASCII, byte order is JCS order.
  bool object(std::size_t depth) {
    ++pos_;
    if (!at_end() && peek() == '}') return ++pos_, true;
    std::string_view previous;
    std::string previous_storage, key_storage;  // only for keys holding escapes
    for (bool first = true;; first = false) {
      if (at_end() || peek() != '"') return fail("expected a string key");
      std::size_t key_at = pos_;
      StringSpan span;
      if (!string(span)) return false;
      if (span.non_ascii) return pos_ = key_at, fail("non-ASCII key");
      std::string_view key = span.content;
      if (span.escaped) key = key_storage = unescaped(span.content);
      if (!first && !ascending(previous, key))
        return pos_ = key_at, fail(key == previous ? "duplicate key \"" + std::string(key) + "\""
                                                   : "keys out of order at \"" + std::string(key) + "\"");
      capturing_ = depth == 0 && !capture_key_.empty() && key == capture_key_;
      if (span.escaped) {
        previous_storage.swap(key_storage);
        previous = previous_storage;
      } else {
        previous = key;
      }
      if (at_end() || peek() != ':') return fail("expected ':'");
      ++pos_;
      if (!value(depth + 1)) return false;
      capturing_ = false;
      if (at_end()) return fail("unexpected end of input");
      if (peek() == '}') return ++pos_, true;
      if (peek() != ',') return fail("expected ',' or '}'");
      ++pos_;
    }
  }

  bool array(std::size_t depth) {
    ++pos_;
    if (!at_end() && peek() == ']') return ++pos_, true;
    for (;;) {
      if (!value(depth + 1)) return false;
      if (at_end()) return fail("unexpected end of input");
      if (peek() == ']') return ++pos_, true;
      if (peek() != ',') return fail("expected ',' or ']'");
      ++pos_;
    }
  }

  // previous < key in byte order, compared inline: keys are short, and a call to memcmp
  // per key was 8% of the checker's time.
  static bool ascending(std::string_view previous, std::string_view key) {
    std::size_t common = std::min(previous.size(), key.size());
    for (std::size_t i = 0; i < common; ++i)
      if (previous[i] != key[i]) return static_cast<unsigned char>(previous[i]) < static_cast<unsigned char>(key[i]);
    return previous.size() < key.size();
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // uppercase hex is not canonical
  }

  static constexpr std::string_view short_forms = "\"\\btnfr";
  static constexpr std::string_view short_values = "\"\\\b\t\n\f\r";

  // A string's content as written (between the quotes) and what it holds besides plain ASCII.
  struct StringSpan {
    std::string_view content;
    bool escaped = false;
    bool non_ascii = false;
  };

  // The content of an already checked string, escapes resolved (they all stand for ASCII).
  static std::string unescaped(std::string_view content) {
    std::string out;
    for (std::size_t i = 0; i < content.size(); ++i) {
      if (content[i] != '\\') {
        out.push_back(content[i]);
      } else if (content[i + 1] == 'u') {
        out.push_back(static_cast<char>(hex_digit(content[i + 4]) * 16 + hex_digit(content[i + 5])));
        i += 5;
      } else {
        out.push_back(short_values[short_forms.find(content[++i])]);
      }
    }
    return out;
  }

  // A canonical string: escapes only where JCS requires them, valid UTF-8.
  bool string(StringSpan& span) {
    std::size_t start = ++pos_;
    for (;;) {
      pos_ = next_special_string_byte(text_, pos_);
      if (at_end()) return fail("unterminated string");
      auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        span.content = text_.substr(start, pos_ - start);
        return ++pos_, true;
      }
      if (c < 0x20) return fail("unescaped control character in a string");
      if (c == '\\') {
        span.escaped = true;
        if (!escape()) return false;
        continue;
      }
      span.non_ascii = true;
      std::size_t n = utf8_sequence_length(text_, pos_);
      if (n == 0) return fail("invalid UTF-8");
      pos_ += n;
    }
  }

  // One escape sequence at pos_: a short form, or \u00XX for a control character without one.
  bool escape() {
    if (pos_ + 1 >= text_.size()) return fail("unexpected end of input");
    char e = text_[pos_ + 1];
    if (short_forms.find(e) != std::string_view::npos) return pos_ += 2, true;
    if (e != 'u') return fail(std::string("escape \\") + e + " is not canonical");
    if (pos_ + 6 > text_.size()) return fail("unexpected end of input");
    int code = 0;
    for (std::size_t k = 2; k < 6; ++k) {
      int d = hex_digit(text_[pos_ + k]);
      if (d < 0) return fail("\\u escape needs four lowercase hex digits");
      code = code * 16 + d;
    }
    if (code >= 0x20 || short_values.find(static_cast<char>(code)) != std::string_view::npos)
      return fail("needless \\u escape");
    return pos_ += 6, true;
  }

  bool integer() {
    std::size_t start = pos_;
    bool negative = peek() == '-';
    if (negative) ++pos_;
    if (at_end() || peek() < '0' || peek() > '9') return fail("expected a digit");
    std::int64_t magnitude = 0;
    if (peek() == '0') {
      ++pos_;
      if (negative) return pos_ = start, fail("-0 is not canonical");
      if (!at_end() && peek() >= '0' && peek() <= '9') return fail("leading zero");
    } else {
      while (!at_end() && peek() >= '0' && peek() <= '9') {
        magnitude = magnitude * 10 + (peek() - '0');
        if (magnitude > max_safe_integer) return pos_ = start, fail("integer beyond ±(2^53−1)");
        ++pos_;
      }
    }
    if (!at_end() && (peek() == '.' || peek() == 'e' || peek() == 'E'))
      return pos_ = start, fail("floating-point numbers are not allowed");
    if (capturing_) captured_ = negative ? -magnitude : magnitude;
    return true;
  }

  std::string_view text_;
  std::string_view capture_key_;
  bool capturing_ = false;
  std::optional<std::int64_t> captured_;
  std::size_t pos_ = 0;
  CanonicalError error_{0, ""};
};

// Skips one value of canonical text starting at `pos`; returns the position after it.
std::size_t skip_value(std::string_view text, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (in_string) {
      if (c == '\\') {
        ++pos;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return pos + 1;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{': case '[': ++depth; break;
      case '}': case ']':
        if (depth == 0) return pos;  // the end of the enclosing object: not ours
        if (--depth == 0) return pos + 1;
        break;
      case ',':
        if (depth == 0) return pos;
        break;
      default: break;
    }
  }
  return pos;
}

}  // namespace

Json to_leaf_value_space(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      Json out = Json::object();
      for (const auto& [key, member] : value.items())
        out[plain_key(key) ? key : percent_encoded(key)] = to_leaf_value_space(member);
      return out;
    }
    case Json::value_t::array: {
      Json out = Json::array();
      for (const auto& item : value) out.push_back(to_leaf_value_space(item));
      return out;
    }
    case Json::value_t::string:
      if (!is_valid_utf8(value.get_ref<const std::string&>())) throw outside_value_space("a string that is not valid UTF-8");
      return value;
    case Json::value_t::number_float:
      return value.dump();  // shortest round-trip form
    case Json::value_t::number_integer: {
      auto i = value.get<std::int64_t>();
      return i > max_safe_integer || i < -max_safe_integer ? Json(std::to_string(i)) : value;
    }
    case Json::value_t::number_unsigned: {
      auto u = value.get<std::uint64_t>();
      return u > static_cast<std::uint64_t>(max_safe_integer) ? Json(std::to_string(u)) : value;
    }
    case Json::value_t::binary:
      throw outside_value_space("binary data");
    default:
      return value;
  }
}

std::string canonical_json(const Json& value) {
  std::string out;
  out.reserve(256);
  write_canonical(out, value, 0);
  return out;
}

std::optional<CanonicalError> check_canonical(std::string_view text) {
  return CanonicalChecker(text, {}).run();
}

std::optional<CanonicalError> check_canonical(std::string_view text, std::string_view key,
                                              std::optional<std::int64_t>& value) {
  CanonicalChecker checker(text, key);
  auto error = checker.run();
  value = checker.captured();
  return error;
}

std::optional<std::int64_t> top_level_integer(std::string_view text, std::string_view key) {
  if (text.empty() || text.front() != '{') return std::nullopt;
  std::size_t pos = 1;
  while (pos < text.size() && text[pos] == '"') {
    std::size_t end = skip_value(text, pos);  // just past the key's closing quote
    if (end < pos + 2 || end >= text.size() || text[end] != ':') return std::nullopt;
    std::string_view name = text.substr(pos + 1, end - pos - 2);
    std::size_t value_at = end + 1;
    std::size_t value_end = skip_value(text, value_at);
    if (name == key) {
      std::string_view digits = text.substr(value_at, value_end - value_at);
      if (digits.empty() || digits.size() > 17) return std::nullopt;
      std::int64_t v = 0;
      bool negative = digits.front() == '-';
      for (std::size_t i = negative ? 1 : 0; i < digits.size(); ++i) {
        if (digits[i] < '0' || digits[i] > '9') return std::nullopt;
        v = v * 10 + (digits[i] - '0');
      }
      return negative ? -v : v;
    }
    if (value_end >= text.size() || text[value_end] != ',') return std::nullopt;
    pos = value_end + 1;
  }
  return std::nullopt;
}

}  // namespace nucleo::audit
