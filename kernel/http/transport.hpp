#pragma once

#include <Poco/Net/NameValueCollection.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kernel/events/address_blocks.hpp"
#include "kernel/http/exchange.hpp"

namespace nucleo::http {

// The connection layer's limits and deadlines (http.* keys, docs/configuration.md).
// Connections wait on one event loop and cost no thread; a worker thread is taken only
// by a complete request (ADR 0018).
struct TransportSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 picks a free port (tests)
  int workers = 16;           // threads running handlers (http.max_threads)
  int max_queued = 64;        // complete requests waiting for a worker; more get 503
  std::size_t body_limit = 1 << 20;    // larger bodies get 413 and the connection closes
  std::size_t header_limit = 16 << 10;  // request line + headers; larger get 431
  // A request head must be complete this long after the server starts waiting for it
  // (slow-header clients are cut off); a kept-alive connection may idle this long
  // before its next request begins.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds keep_alive_timeout{5'000};
  // A body must arrive within body_timeout plus its declared length at min_body_rate.
  std::chrono::milliseconds body_timeout{10'000};
  std::size_t min_body_rate = 16 << 10;  // bytes per second
  std::chrono::milliseconds write_timeout{30'000};  // per response, or per streamed piece
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_client = 64;  // per client IP address
  // Proxies in front of the server (http.trusted_proxies): a request from one of them is
  // from the address its X-Forwarded-For names — the nearest hop no trusted proxy
  // wrote — for rate limits, the failed-sign-in bucket, the audit trail and the access
  // log. Empty: X-Forwarded-For is ignored (a client could write anything in it).
  events::AddressBlocks trusted_proxies;
  // Uploads (an import's file): requests `is_upload` accepts by method, target and
  // Authorization header — decided from the head, before any of the body is read — may
  // carry up to `upload_limit` bytes; every other request body_limit.
  std::size_t upload_limit = 0;
  std::function<bool(const std::string& method, const std::string& target, const std::string& authorization)> is_upload;
};

// One request read whole: head and body, nothing of it left on the wire.
struct HttpRequest {
  std::string method;
  std::string target;
  Poco::Net::NameValueCollection headers;
  std::string body;
  std::string client_address;
};

// Runs on a worker thread. Exceptions become a 500 (the server catches its own first).
using RequestHandler = std::function<ApiResponse(const HttpRequest&)>;
// The answers the transport gives by itself (400, 413, 431, 503), in the server's
// problem shape.
using ProblemFactory = std::function<ApiResponse(int status, const std::string& detail)>;

// What the transport has seen since it started, for /metrics.
struct TransportCounters {
  std::size_t open_connections = 0;
  std::uint64_t refused_connections = 0;  // over max_connections or the per-client limit
  std::uint64_t timed_out = 0;            // header, body or write deadline passed
  std::uint64_t malformed = 0;            // closed after a 400, 413 or 431 of the transport's own
};

// HTTP/1.1 over Boost.Beast on one event-loop thread: reads each request whole within
// its deadlines (Content-Length or chunked; both at once, or a Transfer-Encoding that
// is not chunked, is refused and the connection closed — RFC 9112 §6.3), hands it to a
// pool of worker threads, writes the answer, and only then reads the next request of
// the connection, so no byte of one request is ever read as the start of another.
class Transport {
 public:
  Transport(TransportSettings settings, RequestHandler handler, ProblemFactory problem);
  ~Transport();  // stops
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void start();  // binds and listens; Error(unavailable) when the address is taken
  // Stops accepting, lets running handlers finish and their answers go out (for up to
  // `drain`), then closes every connection.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(10));
  std::uint16_t port() const;
  TransportCounters counters() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nucleo::http
