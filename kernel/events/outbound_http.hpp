#pragma once

// Outbound HTTP for plugins and webhooks (docs/architecture.md §8), guarded against server-side
// request forgery: every address a host name resolves to is checked, and the request
// goes to the address that was checked (a second DNS answer cannot swap in another —
// DNS rebinding). Private, loopback, link-local, multicast and reserved targets are
// refused unless allow-listed, so tests and on-premises integrations can reach local
// services on purpose.

#include <Poco/AutoPtr.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/events/address_blocks.hpp"

namespace nucleo::events {

struct OutboundSettings {
  // Addresses or CIDR blocks requests may reach although they are not public:
  // "127.0.0.1", "10.20.0.0/16", "::1".
  std::vector<std::string> allow;
  std::chrono::milliseconds timeout{10000};  // connect, send and receive, each
  int retries = 2;  // after a network error or 502/503/504; then the last answer is returned
  std::size_t max_response_bytes = 10 << 20;
  // https: the certificate authorities trusted, as a PEM file or a directory of them;
  // empty: the system's (/etc/ssl/certs). Certificates are always verified, host name
  // included.
  std::string ca_file;
};

struct OutboundRequest {
  std::string method = "GET";
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  // instead of the settings'
};

struct OutboundResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

class OutboundHttp {
 public:
  // Throws Error(validation) naming a malformed allow-list entry.
  explicit OutboundHttp(OutboundSettings settings);

  // Any HTTP answer is returned, 502/503/504 after the retries. Redirects are not
  // followed (the next target would escape the check). Throws Error: validation
  // (malformed request), forbidden (a refused target, named with its address),
  // unavailable (no answer after the retries, or a response over the size limit).
  OutboundResponse send(const OutboundRequest& request) const;

  // Checks a URL a request will be sent to later (a webhook's, at creation): well-formed
  // http(s), and every address its host resolves to public or allow-listed. Throws as
  // send does. The check is repeated on every send (the DNS answer may change).
  void check_target(const std::string& url) const;
  // The addresses `host` resolves to, each public or allow-listed, for a connection that
  // is not HTTP (a mail server: network.resolve, plugin_abi.h). Connect to one of these,
  // not to the name again. Throws as send does.
  std::vector<std::string> resolve_checked(const std::string& host) const;
  // The certificate authorities TLS trusts (settings' ca_file; empty: the system's).
  const std::string& ca_file() const { return settings_.ca_file; }
  // The URL if it is well-formed http(s) without credentials; throws Error(validation).
  static Poco::URI parse_url(const std::string& url);

  // Why this address is not public ("loopback", "private (RFC 1918)", …), or nullopt.
  static std::optional<std::string> non_public(const Poco::Net::IPAddress& address);

 private:
  std::vector<Poco::Net::IPAddress> checked_addresses(const std::string& host) const;
  std::unique_ptr<Poco::Net::HTTPClientSession> open_session(const Poco::URI& uri,
                                                             const Poco::Net::IPAddress& address) const;

  OutboundSettings settings_;
  AddressBlocks allow_;
  Poco::AutoPtr<Poco::Net::Context> tls_;  // https: verify the server, trust ca_file or the system's CAs
};

}  // namespace nucleo::events
