#include "kernel/http/transport.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"

namespace nucleo::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using beast::error_code;

namespace {

using Parser = bhttp::request_parser<bhttp::string_body>;

// RFC 9110 §5.6.7 IMF-fixdate, for the Date header.
std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

// Each connection is a file descriptor: a server holding 10,000 of them needs a limit
// above the usual soft default of 1,024.
void raise_open_file_limit(std::size_t wanted, Poco::Logger& log) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t needed = static_cast<rlim_t>(wanted) + 256;  // database, plugins, logs
  if (limit.rlim_cur < needed && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = std::min(needed, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < needed)
    log.warning("http.max_connections is %z but this process may open only %lu files", wanted,
                static_cast<unsigned long>(limit.rlim_cur));
}

bool is_chunked_only(const Parser& parser) {
  auto te = parser.get().find(bhttp::field::transfer_encoding);
  return te == parser.get().end() || parser.chunked();
}

}  // namespace

class Connection;

// Members are declared so that the event loop is destroyed before what its pending
// handlers' connections touch on their way out (the mutex and the counts).
struct Transport::Impl {
  TransportSettings settings;
  RequestHandler handler;
  ProblemFactory problem;
  Poco::Logger& log = Poco::Logger::get("nucleo.http");
  mutable std::mutex mutex;  // guards the two below
  std::map<std::string, std::size_t> per_client;
  std::set<Connection*> connections;
  std::atomic<bool> stopping{false};
  std::atomic<bool> io_stopped{false};
  std::atomic<int> in_handlers{0};  // queued or running on a worker
  std::atomic<int> in_operations{0};  // health checks and scrapes queued or running
  std::atomic<std::uint64_t> refused{0}, timed_out{0}, malformed{0};
  net::thread_pool workers;
  // /healthz, /readyz and /metrics run here, never queued behind API requests (issue
  // #26: a load balancer's check timed out under load and took the only node out).
  net::thread_pool operations{2};
  static constexpr int max_operations_waiting = 16;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread io_thread;

  Impl(TransportSettings s, RequestHandler h, ProblemFactory p)
      : settings(std::move(s)),
        handler(std::move(h)),
        problem(std::move(p)),
        workers(static_cast<std::size_t>(std::max(1, settings.workers))) {}

  void accept();
  // The connection counts toward the limits; false (and nothing counted) when over one.
  bool admit(const std::string& client, std::string& why) {
    std::lock_guard lock(mutex);
    if (connections.size() >= settings.max_connections)
      return why = "the server has " + std::to_string(settings.max_connections) + " connections open", false;
    std::size_t& mine = per_client[client];
    if (mine >= settings.max_connections_per_client)
      return why = std::to_string(mine) + " connections from " + client + " are open (the limit per client)", false;
    ++mine;
    return true;
  }
  void refuse(tcp::socket socket, const std::string& why);
};

// One client connection. Everything that touches the socket runs on the event-loop
// thread, except a streamed body, whose worker hands each piece to that thread and
// waits for it to be written.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Transport::Impl* transport, tcp::socket socket, std::string client)
      : t_(transport), stream_(std::move(socket)), client_(std::move(client)) {
    std::lock_guard lock(t_->mutex);
    t_->connections.insert(this);
  }
  ~Connection() {
    std::lock_guard lock(t_->mutex);
    t_->connections.erase(this);
    auto it = t_->per_client.find(client_);
    if (it != t_->per_client.end() && --it->second == 0) t_->per_client.erase(it);
  }

  void start() { wait_for_request(true); }

  // On stop: a connection waiting for a request closes now; one with a request in a
  // handler closes once its answer is written.
  void close_if_idle() {
    if (!busy_) close();
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  // Waits for the first bytes of the next request: a new connection has the header
  // deadline, a kept-alive one the (shorter) keep-alive deadline.
  void wait_for_request(bool first) {
    if (t_->stopping) return close();
    busy_ = false;
    if (buffer_.size() > 0) return read_header();  // pipelined: already here
    stream_.expires_after(first ? t_->settings.header_timeout : t_->settings.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->on_read_error(ec, /*idle=*/true);
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(t_->settings.header_limit));
    // The largest any request may send; on_header narrows it once the head says which.
    limit_ = std::max(t_->settings.body_limit, t_->settings.upload_limit);
    parser_->body_limit(limit_);
    stream_.expires_after(t_->settings.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec, false);
      self->on_header();
    });
  }

  template <class Message>
  std::size_t body_limit_of(const Message& m) const {
    const auto& s = t_->settings;
    if (s.upload_limit <= s.body_limit || !s.is_upload) return s.body_limit;
    bool upload = s.is_upload(std::string(m.method_string()), std::string(m.target()),
                              std::string(m[bhttp::field::authorization]));
    return upload ? s.upload_limit : s.body_limit;
  }

  void on_header() {
    busy_ = true;
    // RFC 9112 §6.3: a Transfer-Encoding other than chunked-last leaves the length unknown.
    if (!is_chunked_only(*parser_))
      return refuse(400, "Transfer-Encoding is not supported unless chunked is its last coding");
    auto length = parser_->content_length();
    limit_ = body_limit_of(parser_->get());
    parser_->body_limit(limit_);
    if (length && *length > limit_) return refuse(413, "the body exceeds " + std::to_string(limit_) + " bytes");
    auto declared = length.value_or(0);
    stream_.expires_after(t_->settings.body_timeout +
                          std::chrono::milliseconds(declared * 1000 / std::max<std::size_t>(1, t_->settings.min_body_rate)));
    const auto& expect = parser_->get()[bhttp::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      auto interim = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      return net::async_write(stream_, net::buffer(*interim),
                              [self = shared_from_this(), interim](error_code ec, std::size_t) {
                                if (ec) return self->close();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec == bhttp::error::body_limit)
        return self->refuse(413, "the body exceeds " + std::to_string(self->limit_) + " bytes");
      if (ec) return self->on_read_error(ec, false);
      self->dispatch();
    });
  }

  void on_read_error(const error_code& ec, bool idle) {
    if (ec == beast::error::timeout) {
      if (!idle || buffer_.size() > 0) ++t_->timed_out;
      return close();
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted)
      return close();
    // Beast checks a declared Content-Length against the body limit with the head.
    if (ec == bhttp::error::body_limit)
      return refuse(413, "the body exceeds " + std::to_string(limit_) + " bytes");
    if (ec == bhttp::error::header_limit)
      return refuse(431, "the request head exceeds " + std::to_string(t_->settings.header_limit) + " bytes");
    // Anything else is a request we cannot frame: answer 400 and close, never guess.
    refuse(400, "malformed request: " + ec.message());
  }

  void dispatch() {
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == bhttp::verb::head;
    if (t_->stopping) return respond(t_->problem(503, "the server is stopping"), false);
    int waiting = t_->in_handlers.load();
    if (!is_operational(message.target()) && waiting >= t_->settings.workers + t_->settings.max_queued) {
      ApiResponse busy = t_->problem(503, "the server is busy: " + std::to_string(waiting) + " requests are waiting");
      busy.headers["Retry-After"] = "1";
      return respond(std::move(busy), keep_alive_);
    }
    bool operational = is_operational(message.target());
    if (operational && t_->in_operations.load() >= Transport::Impl::max_operations_waiting) {
      ApiResponse busy = t_->problem(503, "the server is busy: too many health checks are waiting");
      busy.headers["Retry-After"] = "1";
      return respond(std::move(busy), keep_alive_);
    }
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) request.headers.add(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(message.body());
    request.client_address = client_of(request.headers.get("X-Forwarded-For", ""));
    parser_.reset();
    if (operational) {
      ++t_->in_operations;
      net::post(t_->operations, [self = shared_from_this(), request = std::move(request)]() mutable {
        self->handle(request);
        --self->t_->in_operations;
      });
      return;
    }
    ++t_->in_handlers;
    net::post(t_->workers, [self = shared_from_this(), request = std::move(request)]() mutable {
      self->handle(request);
      --self->t_->in_handlers;
    });
  }

  static bool is_operational(beast::string_view target) {
    auto path = target.substr(0, target.find('?'));
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
  }

  // On a worker thread.
  void handle(const HttpRequest& request) {
    ApiResponse response;
    try {
      response = t_->handler(request);
    } catch (const std::exception& e) {
      t_->log.error("request handler failed: %s", std::string(e.what()));
      response = t_->problem(500, "internal error");
    }
    if (response.stream) {
      stream_response(response);
      return;
    }
    net::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
      self->respond(std::move(response), self->keep_alive_);
    });
  }

  template <class Message>
  void set_common_headers(Message& m, const ApiResponse& r, bool keep_alive) {
    m.set(bhttp::field::server, "nucleo");
    m.set(bhttp::field::date, http_date());
    m.set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers)
      if (!beast::iequals(name, "Connection")) m.set(name, value);
    m.keep_alive(keep_alive);
  }

  static bool asks_to_close(const ApiResponse& r) {
    auto it = r.headers.find("Connection");
    return it != r.headers.end() && beast::iequals(it->second, "close");
  }

  // On the event-loop thread: writes a whole answer, then reads the next request (or
  // closes, lingering so the client can read an answer its unread body would otherwise
  // reset).
  void respond(ApiResponse r, bool keep_alive, bool linger = false) {
    keep_alive = keep_alive && !asks_to_close(r) && !t_->stopping;
    std::string text = r.raw_body.empty() ? to_json_text(r.body) : std::move(r.raw_body);
    if (r.status == 304) text.clear();  // Not Modified has no body (RFC 9110 §15.4.5)
    auto message = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), 11);
    set_common_headers(*message, r, keep_alive);
    if (head_) {
      message->content_length(text.size());  // a HEAD answer announces the body it leaves out
    } else {
      message->body() = std::move(text);
      message->prepare_payload();
    }
    stream_.expires_after(t_->settings.write_timeout);
    auto done = [self = shared_from_this(), message, keep_alive, linger](error_code ec, std::size_t) {
      if (ec) return self->close();
      if (linger) return self->linger_close();
      if (!keep_alive) return self->close();
      self->wait_for_request(false);
    };
    if (head_) {
      auto serializer = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*message);
      return bhttp::async_write_header(stream_, *serializer,
                                       [serializer, done](error_code ec, std::size_t n) { done(ec, n); });
    }
    bhttp::async_write(stream_, *message, std::move(done));
  }

  // The transport's own refusals: the request cannot be framed or is too large, so the
  // connection cannot be trusted for another request.
  void refuse(int status, const std::string& detail) {
    ++t_->malformed;
    busy_ = true;
    head_ = false;
    ApiResponse r = t_->problem(status, detail);
    respond(std::move(r), false, /*linger=*/true);
  }

  // On a worker thread: headers, then each piece as a chunk, each written by the
  // event-loop thread under the write deadline while this worker waits.
  void stream_response(const ApiResponse& r) {
    bool keep_alive = keep_alive_ && !t_->stopping;
    bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(r.status), 11};
    set_common_headers(head, r, keep_alive);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    bool ok = !write_and_wait([&](auto on_done) { bhttp::async_write_header(stream_, serializer, on_done); });
    if (ok && !head_) {
      try {
        r.stream([&](std::string_view piece) {
          if (piece.empty()) return true;
          ok = !write_and_wait(
              [&](auto on_done) { net::async_write(stream_, bhttp::make_chunk(net::buffer(piece.data(), piece.size())), on_done); });
          return ok;
        });
      } catch (const std::exception& e) {
        // The status is sent: end the stream unfinished, which the client sees as a
        // broken transfer rather than a complete file.
        t_->log.error("streamed response aborted: %s", std::string(e.what()));
        ok = false;
      }
      if (ok) ok = !write_and_wait([&](auto on_done) { net::async_write(stream_, bhttp::make_chunk_last(), on_done); });
    }
    net::post(stream_.get_executor(), [self = shared_from_this(), ok, keep_alive] {
      if (ok && keep_alive) self->wait_for_request(false);
      else self->close();
    });
  }

  template <class Start>
  error_code write_and_wait(Start start) {
    auto promise = std::make_shared<std::promise<error_code>>();
    auto written = promise->get_future();
    net::post(stream_.get_executor(), [this, self = shared_from_this(), start, promise] {
      stream_.expires_after(t_->settings.write_timeout);
      start([promise](error_code ec, std::size_t) { promise->set_value(ec); });
    });
    while (written.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
      if (t_->io_stopped) return net::error::operation_aborted;
    try {
      return written.get();
    } catch (const std::future_error&) {  // the loop ended with the write pending
      return net::error::operation_aborted;
    }
  }

  // Half-close, then read and drop what the client still sends (an unread body) for a
  // moment, so the close does not reset the connection before the answer is read.
  void linger_close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }
  // Who sent the request: the peer, or — when the peer is a trusted proxy — the nearest
  // address in X-Forwarded-For that no trusted proxy wrote (the rightmost entries are
  // the proxies' own; what is left of the client's hop is whatever the client wrote).
  std::string client_of(const std::string& forwarded_for) const {
    const auto& trusted = t_->settings.trusted_proxies;
    if (forwarded_for.empty() || trusted.empty() || !trusted.contains(client_)) return client_;
    std::string nearest = client_;
    for (std::size_t end = forwarded_for.size(); end != std::string::npos && end > 0;) {
      std::size_t comma = forwarded_for.rfind(',', end - 1);
      std::size_t begin = comma == std::string::npos ? 0 : comma + 1;
      std::string hop = forwarded_for.substr(begin, end - begin);
      hop.erase(0, hop.find_first_not_of(" \t"));
      hop.erase(hop.find_last_not_of(" \t") + 1);
      Poco::Net::IPAddress address;
      if (!Poco::Net::IPAddress::tryParse(hop, address)) return nearest;  // garbage: stop at the last good hop
      nearest = address.toString();
      if (!trusted.contains(address)) return nearest;
      end = comma;
    }
    return nearest;
  }

  void drain() {
    auto scratch = std::make_shared<std::array<char, 8192>>();
    stream_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch](error_code ec, std::size_t) {
      if (ec || ++self->drained_reads_ > 128) return self->close();
      self->drain();
    });
  }

  Transport::Impl* t_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::string client_;
  bool keep_alive_ = true;
  bool head_ = false;
  std::size_t limit_ = 0;  // the request's body limit (body_limit, or upload_limit for an upload)
  bool busy_ = false;  // between a request's first header line and its answer written
  int drained_reads_ = 0;
};

void Transport::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [self = this](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) {
      error_code peer_ec;
      auto peer = socket.remote_endpoint(peer_ec);
      std::string client = peer_ec ? "unknown" : peer.address().to_string();
      std::string why;
      if (self->admit(client, why)) {
        socket.set_option(tcp::no_delay(true), peer_ec);
        std::make_shared<Connection>(self, std::move(socket), client)->start();
      } else {
        self->refuse(std::move(socket), why);
      }
    } else if (ec == net::error::no_descriptors) {
      self->log.error("cannot accept a connection: %s", ec.message());
    }
    self->accept();
  });
}

// Over a limit: a short 503 and close, never a thread or a parser.
void Transport::Impl::refuse(tcp::socket socket, const std::string& why) {
  ++refused;
  ApiResponse r = problem(503, "too many connections: " + why);
  std::string body = r.raw_body.empty() ? to_json_text(r.body) : r.raw_body;
  auto text = std::make_shared<std::string>("HTTP/1.1 503 Service Unavailable\r\nServer: nucleo\r\nConnection: close\r\n"
                                            "Retry-After: 1\r\nContent-Type: " +
                                            r.content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
                                            "\r\n\r\n" + body);
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  stream->expires_after(std::chrono::seconds(1));
  net::async_write(*stream, net::buffer(*text), [stream, text](error_code, std::size_t) {
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
  });
}

Transport::Transport(TransportSettings settings, RequestHandler handler, ProblemFactory problem)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(handler), std::move(problem))) {}

Transport::~Transport() {
  stop(std::chrono::milliseconds(0));
}

void Transport::start() {
  auto& t = *impl_;
  raise_open_file_limit(t.settings.max_connections, t.log);
  error_code ec;
  auto address = net::ip::make_address(t.settings.host, ec);
  if (ec) throw Error(ErrorCode::validation, "http.host: '" + t.settings.host + "' is not an IP address");
  tcp::endpoint endpoint(address, t.settings.port);
  t.acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only (no SO_REUSEPORT): a second server on a busy port is an error,
  // not a silent sharer.
  if (!ec) t.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) t.acceptor.bind(endpoint, ec);
  if (!ec) t.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error(ErrorCode::unavailable,
                "cannot listen on " + t.settings.host + ":" + std::to_string(t.settings.port) + ": " + ec.message());
  t.accept();
  t.io_thread = std::thread([&t] {
    t.io.run();
    t.io_stopped = true;
  });
}

void Transport::stop(std::chrono::milliseconds drain) {
  auto& t = *impl_;
  if (!t.io_thread.joinable()) return;
  t.stopping = true;
  auto close_connections = [&t](bool busy_too) {
    net::post(t.io, [&t, busy_too] {
      error_code ignored;
      t.acceptor.close(ignored);
      std::lock_guard lock(t.mutex);
      for (Connection* c : t.connections) busy_too ? c->close() : c->close_if_idle();
    });
  };
  close_connections(false);
  auto until = [](auto deadline, auto done) {
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  until(std::chrono::steady_clock::now() + drain, [&t] { return t.in_handlers == 0; });
  // The answers just handed back are written; then every connection closes and the
  // loop runs out of work.
  until(std::chrono::steady_clock::now() + std::min(drain, std::chrono::milliseconds(200)), [] { return false; });
  close_connections(true);
  until(std::chrono::steady_clock::now() + std::chrono::seconds(2), [&t] { return t.io_stopped.load(); });
  t.io.stop();
  t.io_thread.join();
  t.workers.join();
  t.operations.join();
}

std::uint16_t Transport::port() const {
  error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

TransportCounters Transport::counters() const {
  TransportCounters c;
  {
    std::lock_guard lock(impl_->mutex);
    c.open_connections = impl_->connections.size();
  }
  c.refused_connections = impl_->refused;
  c.timed_out = impl_->timed_out;
  c.malformed = impl_->malformed;
  return c;
}

}  // namespace nucleo::http
