#include "kernel/domain/base64.hpp"

#include <openssl/evp.h>

#include <vector>

namespace nucleo {

std::string to_base64(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<char*>(out.data()), static_cast<std::size_t>(n));
}

std::optional<std::string> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::vector<unsigned char> out(text.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // DecodeBlock counts padding as zero bytes.
  std::size_t padding = (text.back() == '=') + (text.size() > 1 && text[text.size() - 2] == '=');
  std::string raw(reinterpret_cast<char*>(out.data()), static_cast<std::size_t>(n) - padding);
  if (to_base64(raw) != text) return std::nullopt;
  return raw;
}

}  // namespace nucleo
