#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nucleo {

// Standard base64 (RFC 4648 §4) with padding.
std::string to_base64(std::string_view bytes);
// Strict: padding required and the one canonical spelling, or nullopt.
std::optional<std::string> from_base64(std::string_view text);

}  // namespace nucleo
