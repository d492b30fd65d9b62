#include "kernel/events/outbound_http.hpp"

#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <tuple>
#include <thread>

#include "kernel/domain/error.hpp"

namespace nucleo::events {
namespace {

using Poco::Net::IPAddress;

std::vector<unsigned char> bytes_of(const IPAddress& a) {
  const auto* p = static_cast<const unsigned char*>(a.addr());
  return std::vector<unsigned char>(p, p + a.length());
}

bool retryable(int status) {
  return status == 502 || status == 503 || status == 504;
}

}  // namespace

namespace {

// A block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
// their updates) whose "Globally Reachable" is False or N/A, plus multicast and the
// deprecated site-local and IPv4-compatible blocks: no webhook or plugin request may
// reach into any of them unless outbound.allow names it.
struct SpecialBlock {
  IPAddress network;
  unsigned prefix;
  std::string name;
};

std::vector<SpecialBlock> blocks(std::initializer_list<std::tuple<const char*, unsigned, const char*>> rows) {
  std::vector<SpecialBlock> out;
  for (const auto& [address, prefix, name] : rows) out.push_back({IPAddress(address), prefix, name});
  return out;
}

const std::vector<SpecialBlock>& not_globally_reachable() {
  static const std::vector<SpecialBlock> table = blocks({
      {"0.0.0.0", 8, "\"this network\" (0.0.0.0/8)"},
      {"10.0.0.0", 8, "private (RFC 1918)"},
      {"100.64.0.0", 10, "shared (100.64.0.0/10)"},
      {"127.0.0.0", 8, "loopback"},
      {"169.254.0.0", 16, "link-local (169.254.0.0/16, cloud metadata)"},
      {"172.16.0.0", 12, "private (RFC 1918)"},
      {"192.0.0.0", 24, "IETF protocol (192.0.0.0/24)"},
      {"192.0.2.0", 24, "documentation (192.0.2.0/24)"},
      {"192.88.99.0", 24, "6to4 relay anycast (192.88.99.0/24)"},
      {"192.168.0.0", 16, "private (RFC 1918)"},
      {"198.18.0.0", 15, "benchmarking (198.18.0.0/15)"},
      {"198.51.100.0", 24, "documentation (198.51.100.0/24)"},
      {"203.0.113.0", 24, "documentation (203.0.113.0/24)"},
      {"224.0.0.0", 4, "multicast"},
      {"240.0.0.0", 4, "reserved (240.0.0.0/4)"},
      {"::1", 128, "loopback"},
      {"::", 128, "unspecified"},
      {"::", 96, "IPv4-compatible (::/96, deprecated)"},
      {"64:ff9b:1::", 48, "local-use NAT64 (64:ff9b:1::/48)"},
      {"100::", 64, "discard-only (100::/64)"},
      {"100:0:0:1::", 64, "dummy (100:0:0:1::/64)"},
      {"2001::", 23, "IETF protocol (2001::/23)"},
      {"2001:db8::", 32, "documentation (2001:db8::/32)"},
      {"2002::", 16, "6to4 (2002::/16)"},
      {"3fff::", 20, "documentation (3fff::/20)"},
      {"5f00::", 16, "SRv6 SIDs (5f00::/16)"},
      {"fc00::", 7, "unique local (fc00::/7)"},
      {"fe80::", 10, "link-local (fe80::/10)"},
      {"fec0::", 10, "site-local (fec0::/10)"},
      {"ff00::", 8, "multicast"},
  });
  return table;
}

// Globally reachable blocks inside 2001::/23, per the registry.
const std::vector<SpecialBlock>& reachable_exceptions() {
  static const std::vector<SpecialBlock> table = blocks({{"2001:1::1", 128, ""},
                                                         {"2001:1::2", 128, ""},
                                                         {"2001:1::3", 128, ""},
                                                         {"2001:3::", 32, ""},
                                                         {"2001:4:112::", 48, ""},
                                                         {"2001:20::", 28, ""},
                                                         {"2001:30::", 28, ""}});
  return table;
}

bool in_block(const IPAddress& address, const SpecialBlock& block) {
  return within(address, block.network, block.prefix);
}

}  // namespace

std::optional<std::string> OutboundHttp::non_public(const IPAddress& address) {
  auto b = bytes_of(address);
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses reach the IPv4
  // address they embed: judge that one.
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
  for (const auto* prefix : {mapped, nat64}) {
    if (b.size() == 16 && std::memcmp(b.data(), prefix, 12) == 0) {
      IPAddress embedded(b.data() + 12, 4);
      if (auto why = non_public(embedded)) return std::string(prefix == mapped ? "IPv4-mapped " : "NAT64 ") + *why;
      return std::nullopt;
    }
  }
  for (const auto& block : not_globally_reachable()) {
    if (!in_block(address, block)) continue;
    for (const auto& exception : reachable_exceptions())
      if (in_block(address, exception)) return std::nullopt;
    return block.name;
  }
  return std::nullopt;
}

namespace {

// The client side of TLS: the server's certificate chain must verify against the
// trusted CAs and name the URL's host; TLS 1.2 or later.
Poco::AutoPtr<Poco::Net::Context> client_context(const std::string& ca_file) {
  static std::once_flag ssl_ready;
  std::call_once(ssl_ready, [] { Poco::Net::initializeSSL(); });
  Poco::Net::Context::Params params;
  params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  params.caLocation = ca_file;
  params.loadDefaultCAs = ca_file.empty();
  try {
    Poco::AutoPtr<Poco::Net::Context> context(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params));
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    return context;
  } catch (const Poco::Exception& e) {
    throw Error(ErrorCode::validation, "outbound.ca_file: cannot use '" + ca_file + "': " + e.displayText(),
                {{"outbound.ca_file", "a PEM file or a directory of certificates"}});
  }
}

}  // namespace

OutboundHttp::OutboundHttp(OutboundSettings settings)
    : settings_(std::move(settings)),
      allow_(settings_.allow, "outbound.allow"),
      tls_(client_context(settings_.ca_file)) {}

// Every address the host resolves to must be public or allow-listed: one bad answer
// among several is enough for an attacker who controls the name.
std::vector<IPAddress> OutboundHttp::checked_addresses(const std::string& host) const {
  std::vector<IPAddress> addresses;
  IPAddress literal;
  if (IPAddress::tryParse(host, literal)) {
    addresses.push_back(literal);
  } else {
    try {
      Poco::Net::HostEntry entry = Poco::Net::DNS::resolve(host);  // named: addresses() returns a reference into it
      addresses = entry.addresses();
    } catch (const Poco::Exception& e) {
      throw Error(ErrorCode::unavailable, "cannot resolve " + host + ": " + e.displayText());
    }
    if (addresses.empty()) throw Error(ErrorCode::unavailable, "cannot resolve " + host + ": no address");
  }
  for (const auto& a : addresses) {
    auto why = non_public(a);
    if (why && !allow_.contains(a))
      throw Error(ErrorCode::forbidden, "refused: " + host + (host == a.toString() ? "" : " resolves to " + a.toString()) +
                                            ", a " + *why + " address (allow it with outbound.allow)");
  }
  return addresses;
}

std::vector<std::string> OutboundHttp::resolve_checked(const std::string& host) const {
  if (host.empty() || host.size() > 253 || host.find_first_of(" /?#@[]") != std::string::npos)
    throw Error(ErrorCode::validation, "'" + host + "' is not a host name or address", {{"host", "malformed"}});
  std::vector<std::string> out;
  for (const auto& a : checked_addresses(host)) out.push_back(a.toString());
  return out;
}

Poco::URI OutboundHttp::parse_url(const std::string& url) {
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    throw Error(ErrorCode::validation, "malformed url '" + url + "': " + e.displayText(), {{"url", "malformed"}});
  }
  if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty())
    throw Error(ErrorCode::validation, "url must be http(s)://host/…, got '" + url + "'",
                {{"url", "must be http or https"}});
  if (!uri.getUserInfo().empty())
    throw Error(ErrorCode::validation, "url must not carry credentials (user:password@)", {{"url", "has credentials"}});
  return uri;
}

void OutboundHttp::check_target(const std::string& url) const {
  checked_addresses(parse_url(url).getHost());
}

// A session to `address`; for https, TLS verified against the URL's host name (SNI
// and certificate), not against the address.
std::unique_ptr<Poco::Net::HTTPClientSession> OutboundHttp::open_session(const Poco::URI& uri,
                                                                         const IPAddress& address) const {
  if (uri.getScheme() == "http")
    return std::make_unique<Poco::Net::HTTPClientSession>(Poco::Net::SocketAddress(address, uri.getPort()));
  Poco::Net::SecureStreamSocket socket(tls_);
  socket.setPeerHostName(uri.getHost());
  auto session = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
  session->setHost(address.toString());
  session->setPort(uri.getPort());
  return session;
}

OutboundResponse OutboundHttp::send(const OutboundRequest& request) const {
  Poco::URI uri = parse_url(request.url);
  bool token = !request.method.empty() && std::all_of(request.method.begin(), request.method.end(), ::isupper);
  if (!token) throw Error(ErrorCode::validation, "method must be an upper-case HTTP method", {{"method", "invalid"}});

  auto addresses = checked_addresses(uri.getHost());
  auto timeout = request.timeout.value_or(settings_.timeout);
  std::string failure;
  for (int attempt = 0; attempt <= settings_.retries; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100) * (1 << (attempt - 1)));
    try {
      // The connection goes to the address that was checked, never to a new lookup.
      auto session = open_session(uri, addresses[static_cast<std::size_t>(attempt) % addresses.size()]);
      session->setTimeout(Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count()));
      std::string target = uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery();
      Poco::Net::HTTPRequest out(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
      out.setHost(uri.getHost(), uri.getPort());
      for (const auto& [name, value] : request.headers)
        if (Poco::icompare(name, "Host") != 0 && Poco::icompare(name, "Content-Length") != 0) out.set(name, value);
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH")
        out.setContentLength(static_cast<std::streamsize>(request.body.size()));
      session->sendRequest(out) << request.body;
      Poco::Net::HTTPResponse in;
      std::istream& body = session->receiveResponse(in);
      OutboundResponse response;
      response.status = static_cast<int>(in.getStatus());
      for (const auto& [name, value] : in) response.headers[name] = value;
      char buffer[8192];
      while (body.read(buffer, sizeof buffer) || body.gcount() > 0) {
        response.body.append(buffer, static_cast<std::size_t>(body.gcount()));
        if (response.body.size() > settings_.max_response_bytes)
          throw Error(ErrorCode::unavailable, request.method + " " + request.url + ": the response exceeds " +
                                                  std::to_string(settings_.max_response_bytes) + " bytes");
      }
      if (retryable(response.status) && attempt < settings_.retries) {
        failure = "answered " + std::to_string(response.status);
        continue;
      }
      return response;
    } catch (const Poco::Exception& e) {
      failure = e.displayText();
    }
  }
  throw Error(ErrorCode::unavailable, request.method + " " + request.url + " failed after " +
                                          std::to_string(settings_.retries + 1) + " attempts: " + failure);
}

}  // namespace nucleo::events
