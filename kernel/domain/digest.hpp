#pragma once

#include <string>
#include <string_view>

namespace nucleo {

// SHA-256 of `data` as 64 lower-case hex characters (OpenSSL).
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 of `data` under `key`, as lower-case hex (OpenSSL; Poco 1.11's
// HMACEngine<SHA2Engine> does not compile).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// HMAC-SHA256 of `data` under `key`: the 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// `bytes` bytes from the system CSPRNG (OpenSSL RAND_bytes), as lower-case hex.
std::string random_hex(std::size_t bytes);
// The same, raw.
std::string random_bytes(std::size_t bytes);

// Compares two strings in time independent of where they differ (secret checks).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace nucleo
