#include "kernel/http/cursor.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include <sstream>

#include "kernel/domain/digest.hpp"
#include "kernel/http/exchange.hpp"

namespace nucleo::http {
namespace {

constexpr std::size_t signature_hex_length = 32;  // 128 bits of HMAC-SHA256

std::string base64url(const std::string& data) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder << data;
  encoder.close();
  return out.str();
}

std::string unbase64url(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  std::string out;
  char c;
  while (decoder.get(c)) out.push_back(c);
  return out;
}

std::string signature(const std::string& payload, const std::string& secret) {
  return hmac_sha256_hex(secret, payload).substr(0, signature_hex_length);
}

}  // namespace

std::string encode_cursor(const std::string& collection, const std::string& after_id, const std::string& secret) {
  std::string payload = base64url(collection + "\n" + after_id);
  return payload + "." + signature(payload, secret);
}

std::string decode_cursor(const std::string& collection, const std::string& cursor, const std::string& secret) {
  auto dot = cursor.rfind('.');
  if (dot == std::string::npos || cursor.size() > 512) throw BadRequest("invalid cursor");
  std::string payload = cursor.substr(0, dot);
  if (!constant_time_equal(signature(payload, secret), cursor.substr(dot + 1))) throw BadRequest("invalid cursor");
  std::string decoded;
  try {
    decoded = unbase64url(payload);
  } catch (const std::exception&) {
    throw BadRequest("invalid cursor");
  }
  auto nl = decoded.find('\n');
  if (nl == std::string::npos || decoded.substr(0, nl) != collection)
    throw BadRequest("the cursor belongs to another collection");
  return decoded.substr(nl + 1);
}

}  // namespace nucleo::http
