#pragma once

// What the e-mail channel's SMTP and IMAP connections share (ADR 0028): libcurl set up
// once, and a transfer pinned to the address the kernel checked (network.resolve), with
// TLS verified against the host name and the CAs the kernel trusts.

#include <curl/curl.h>

#include <string>

namespace nucleo::email {

void use_curl();

struct CurlTarget {
  std::string host;
  int port = 0;
  std::string address;   // where to connect: one network.resolve answered
  std::string ca_file;   // PEM file or directory; empty: the system's CAs
  bool starttls = false; // require TLS after the greeting
  long timeout_ms = 30000;
};

// Sets `handle` up for `target`; `pinned` receives the CURLOPT_RESOLVE list, which must
// outlive the transfers (free it with curl_slist_free_all).
void configure(CURL* handle, const CurlTarget& target, const char* protocols, curl_slist*& pinned);

}  // namespace nucleo::email
