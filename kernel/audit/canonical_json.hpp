#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/domain/entity.hpp"

namespace nucleo::audit {

// Canonical JSON for audit leaves: RFC 8785 (JCS) restricted to the leaf's value space
// (docs/architecture.md §5) — objects with ASCII keys in ascending order, arrays, strings, integers
// within ±(2^53−1), true, false, null; no floating-point numbers, no whitespace.
// Within that space JCS is simple: keys sort bytewise (ASCII), integers print in
// decimal, strings escape only `"`, `\` and control characters (\b \t \n \f \r, else
// \u00xx in lowercase hex) and keep every other character as UTF-8.

constexpr std::int64_t max_safe_integer = 9007199254740991;  // 2^53 − 1

// Maps any JSON into the value space, deterministically: floating-point numbers and
// integers beyond ±(2^53−1) become strings of their shortest decimal form; a key with
// non-ASCII bytes is percent-encoded (UTF-8 bytes as %XX) and so is '%' itself in such
// a key. Invalid UTF-8 in strings is refused: Error(validation).
Json to_leaf_value_space(const Json& value);

// The canonical bytes of a value already in the value space; throws Error(validation)
// naming the offending part when it is not (a float, a big integer, a non-ASCII key).
std::string canonical_json(const Json& value);

// Checks that `text` is exactly the canonical form of a value in the value space —
// one pass, no tree built, so a verifier can check a million leaves a second. Rejects
// duplicate or unsorted keys, whitespace, floats, out-of-range integers, leading zeros,
// "-0", needless escapes, invalid UTF-8 and trailing bytes. Returns nullopt when it is
// canonical, else the first problem and its byte offset.
struct CanonicalError {
  std::size_t offset;
  std::string message;
};
std::optional<CanonicalError> check_canonical(std::string_view text);
// The same check, also reading the integer member `key` of the top-level object in the
// same pass (nullopt when absent or not an integer): how the verifier reads `seq`.
std::optional<CanonicalError> check_canonical(std::string_view text, std::string_view key,
                                              std::optional<std::int64_t>& value);

// The integer member `key` of the top-level object in canonical `text`, found without
// parsing the rest (the verifier reads `seq` this way); nullopt when absent or not an
// integer. `text` must have passed check_canonical.
std::optional<std::int64_t> top_level_integer(std::string_view text, std::string_view key);

}  // namespace nucleo::audit
