#pragma once

#include <string>

namespace nucleo::http {

// Opaque, signed keyset cursors (docs/architecture.md §3): base64url of the last id seen and the
// collection, then "." and an HMAC-SHA256 over both. A cursor altered, truncated or
// taken from another collection is refused (BadRequest).
std::string encode_cursor(const std::string& collection, const std::string& after_id, const std::string& secret);
std::string decode_cursor(const std::string& collection, const std::string& cursor, const std::string& secret);

}  // namespace nucleo::http
