#include "curl_connection.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>

namespace nucleo::email {
namespace {

bool is_directory(const std::string& path) {
  struct stat s {};
  return stat(path.c_str(), &s) == 0 && S_ISDIR(s.st_mode);
}

}  // namespace

void use_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void configure(CURL* c, const CurlTarget& t, const char* protocols, curl_slist*& pinned) {
  // Connect to the checked address, whatever the name resolves to by now.
  pinned = curl_slist_append(nullptr, (t.host + ":" + std::to_string(t.port) + ":" + t.address).c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(c, CURLOPT_RESOLVE, pinned);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(t.timeout_ms, 10000L));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t.timeout_ms);
  if (t.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!t.ca_file.empty()) curl_easy_setopt(c, is_directory(t.ca_file) ? CURLOPT_CAPATH : CURLOPT_CAINFO, t.ca_file.c_str());
}

}  // namespace nucleo::email
