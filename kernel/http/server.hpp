#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace nucleo::http {

struct ServerSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 picks a free port (tests)
  int max_threads = 16;
  int max_queued = 64;
};

// What /readyz reports: ready, or the reason the node should get no traffic.
struct Readiness {
  bool ready = false;
  std::string detail;
};
using ReadinessCheck = std::function<Readiness()>;

// The Poco HTTP server. For now it serves the operational endpoints only:
//   GET /healthz  200 while the process serves requests (liveness)
//   GET /readyz   200 when the database answers and its schema is current, else 503
// Every response carries X-Request-Id; errors are problem+json.
class Server {
 public:
  Server(ServerSettings settings, ReadinessCheck readiness);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  void stop();
  std::uint16_t port() const;  // the bound port, also when 0 was asked for

 private:
  ServerSettings settings_;
  ReadinessCheck readiness_;
  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace nucleo::http
