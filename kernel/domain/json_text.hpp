#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kernel/domain/entity.hpp"

namespace nucleo {

// JSON text for API responses: the bytes nlohmann's dump(-1, ' ', false, replace) writes
// (keys in map order, UTF-8 kept as is, invalid UTF-8 replaced by U+FFFD), written about
// three times faster — a list page renders 50 records per request.
void append_json_text(std::string& out, const Json& value);
std::string to_json_text(const Json& value);
// One string as a JSON string literal, escaped the same way.
void append_json_string(std::string& out, std::string_view s);

// The first string (value or key) of `value` holding a NUL character, as a field path
// under `path` ("attributes.note", "contacts[2]"); empty when none. PostgreSQL's text and
// jsonb cannot store one, so a value to be written is refused with it on both backends
// alike — by the HTTP layer for a body, by the services for what a plugin hands over.
std::string field_with_nul(const Json& value, const std::string& path = "");
// Throws a validation error naming that field, when there is one.
void refuse_nul(const Json& value, const std::string& path = "");

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid too).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);
bool is_valid_utf8(std::string_view text);

// The first byte at or after `pos` that a JSON string cannot hold as it stands or that
// needs a UTF-8 check: '"', '\\', a control character or a byte ≥ 0x80; text.size() if
// none. Runs 16 bytes at a time where it can.
std::size_t next_special_string_byte(std::string_view text, std::size_t pos);

}  // namespace nucleo
