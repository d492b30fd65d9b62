#include "kernel/http/server.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <nlohmann/json.hpp>

#include "kernel/domain/id.hpp"
#include "kernel/http/problem.hpp"

namespace nucleo::http {
namespace {

using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// A client may send its own X-Request-Id to correlate logs; anything odd is replaced.
std::string request_id_for(const HTTPServerRequest& request) {
  const std::string& given = request.get("X-Request-Id", "");
  bool usable = !given.empty() && given.size() <= 128;
  for (char c : given) usable = usable && c > 0x20 && c < 0x7f;
  return usable ? given : generate_id("req", SystemClock().now());
}

class OperationalHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit OperationalHandler(const ReadinessCheck& readiness) : readiness_(readiness) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    std::string request_id = request_id_for(request);
    response.set("X-Request-Id", request_id);
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    if (path != "/healthz" && path != "/readyz")
      return send_problem(response, HTTPResponse::HTTP_NOT_FOUND, "no route for " + path, request_id);
    if (request.getMethod() != HTTPRequest::HTTP_GET && request.getMethod() != HTTPRequest::HTTP_HEAD) {
      response.set("Allow", "GET, HEAD");
      return send_problem(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                          request.getMethod() + " is not allowed on " + path, request_id);
    }
    if (path == "/healthz") return send_json(response, HTTPResponse::HTTP_OK, R"({"status":"ok"})");

    Readiness r = check_readiness();
    if (!r.ready) return send_problem(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, r.detail, request_id);
    send_json(response, HTTPResponse::HTTP_OK, nlohmann::json{{"status", "ready"}, {"detail", r.detail}}.dump());
  }

 private:
  Readiness check_readiness() {
    try {
      return readiness_();
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }
  const ReadinessCheck& readiness_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(const ReadinessCheck& readiness) : readiness_(readiness) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new OperationalHandler(readiness_);
  }

 private:
  const ReadinessCheck& readiness_;
};

}  // namespace

Server::Server(ServerSettings settings, ReadinessCheck readiness)
    : settings_(std::move(settings)), readiness_(std::move(readiness)) {}

Server::~Server() {
  stop();
}

void Server::start() {
  auto params = new Poco::Net::HTTPServerParams;  // owned by the server (Poco refcount)
  params->setMaxThreads(settings_.max_threads);
  params->setMaxQueued(settings_.max_queued);
  params->setServerName("nucleo");
  // Poco's ServerSocket(address) sets SO_REUSEPORT, which would let a second server
  // share the port silently; bind with SO_REUSEADDR only, so a busy port is an error.
  Poco::Net::ServerSocket socket;
  socket.bind(Poco::Net::SocketAddress(settings_.host, settings_.port), true, false);
  socket.listen(settings_.max_queued);
  // Our own pool: Poco's default one caps at 16 threads whatever max_threads says.
  threads_ = std::make_unique<Poco::ThreadPool>(2, settings_.max_threads);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(readiness_), *threads_, socket, params);
  server_->start();
}

void Server::stop() {
  if (server_) {
    server_->stopAll(true);
    server_.reset();
    threads_->joinAll();
    threads_.reset();
  }
}

std::uint16_t Server::port() const {
  return server_ ? server_->port() : 0;
}

}  // namespace nucleo::http
