#include "kernel/domain/json_text.hpp"

#include "kernel/domain/error.hpp"

#include <array>
#include <charconv>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace nucleo {
namespace {

// Printable ASCII other than '"' and '\\': bytes a JSON string holds as they are.
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

void append_escaped_control(std::string& out, unsigned char c) {
  switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    default: {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t special = next_special_string_byte(s, pos);
    out.append(s, pos, special - pos);
    if (special == s.size()) break;
    auto c = static_cast<unsigned char>(s[special]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      pos = special + 1;
    } else if (c < 0x20) {
      append_escaped_control(out, c);
      pos = special + 1;
    } else if (std::size_t n = utf8_sequence_length(s, special); n > 0) {
      out.append(s, special, n);
      pos = special + n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
      pos = special + 1;
    }
  }
  out.push_back('"');
}

namespace {

template <class Integer>
void append_integer(std::string& out, Integer v) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out.append(digits, end);
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (length == 0 || c > 0xF4 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char second = byte(i + 1);
  if (c == 0xE0 && second < 0xA0) return 0;  // overlong
  if (c == 0xED && second > 0x9F) return 0;  // UTF-16 surrogate
  if (c == 0xF0 && second < 0x90) return 0;  // overlong
  if (c == 0xF4 && second > 0x8F) return 0;  // above U+10FFFF
  return length;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::size_t next_special_string_byte(std::string_view text, std::size_t pos) {
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; pos + 16 <= text.size(); pos += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + pos));
    // A signed compare: bytes ≥ 0x80 are negative, so "below 0x20" catches them with the controls.
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                                   _mm_cmplt_epi8(chunk, space));
    if (int mask = _mm_movemask_epi8(special); mask != 0) return pos + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  while (pos < text.size() && plain_bytes[static_cast<unsigned char>(text[pos])]) ++pos;
  return pos;
}

void append_json_text(std::string& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);
        out.push_back(':');
        append_json_text(out, member);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.get_ref<const Json::array_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_text(out, item);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::string:
      append_json_string(out, value.get_ref<const std::string&>());
      return;
    case Json::value_t::number_integer:
      append_integer(out, value.get<std::int64_t>());
      return;
    case Json::value_t::number_unsigned:
      append_integer(out, value.get<std::uint64_t>());
      return;
    case Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_float:  // rare in responses: nlohmann's shortest round-trip form
      out += value.dump();
      return;
    case Json::value_t::binary:  // never in responses; written as nlohmann would
      out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
    default:  // null and discarded
      out += "null";
      return;
  }
}

std::string to_json_text(const Json& value) {
  std::string out;
  out.reserve(1024);
  append_json_text(out, value);
  return out;
}

std::string field_with_nul(const Json& value, const std::string& path) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') == std::string::npos ? "" : path;
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      std::string at = path.empty() ? key : path + "." + key;
      if (key.find('\0') != std::string::npos) return at;
      if (auto found = field_with_nul(member, at); !found.empty()) return found;
    }
  }
  if (value.is_array())
    for (std::size_t i = 0; i < value.size(); ++i)
      if (auto found = field_with_nul(value[i], path + "[" + std::to_string(i) + "]"); !found.empty()) return found;
  return "";
}

void refuse_nul(const Json& value, const std::string& path) {
  if (auto field = field_with_nul(value, path); !field.empty())
    throw Error(ErrorCode::validation, field + " holds a NUL (\\u0000) character",
                {{field, "must not contain NUL (\\u0000) characters"}});
}

}  // namespace nucleo
