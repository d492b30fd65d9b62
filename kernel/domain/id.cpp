#include "kernel/domain/id.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "kernel/domain/error.hpp"

namespace nucleo {
namespace {

constexpr std::string_view crockford = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t body_length = 26;  // 130 bits: two leading zero bits + 128

std::array<std::uint8_t, 16> uuid_v7(Timestamp now) {
  std::array<std::uint8_t, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
    throw Error(ErrorCode::internal, "the system random generator failed");
  auto ms = static_cast<std::uint64_t>(now.millis());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // variant 10
  return b;
}

// Big-endian base32 of 128 bits with two zero bits in front, so the text sorts like
// the bytes (the same layout as TypeID).
std::string encode_base32(const std::array<std::uint8_t, 16>& bytes) {
  auto bit = [&](std::size_t i) {  // bit i of the 130-bit big-endian value
    if (i < 2) return 0;
    i -= 2;
    return (bytes[i / 8] >> (7 - i % 8)) & 1;
  };
  std::string out(body_length, '0');
  for (std::size_t c = 0; c < body_length; ++c) {
    int v = 0;
    for (std::size_t k = 0; k < 5; ++k) v = (v << 1) | bit(c * 5 + k);
    out[c] = crockford[static_cast<std::size_t>(v)];
  }
  return out;
}

}  // namespace

std::string generate_id(std::string_view prefix, Timestamp now) {
  std::string id;
  id.reserve(prefix.size() + 1 + body_length);
  id.append(prefix).push_back('_');
  id += encode_base32(uuid_v7(now));
  return id;
}

bool is_valid_id(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 1 + body_length) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  std::string_view body = id.substr(prefix.size() + 1);
  if (body[0] > '7') return false;  // the two leading bits are zero
  return body.find_first_not_of(crockford) == std::string_view::npos;
}

}  // namespace nucleo
