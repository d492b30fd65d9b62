#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace nucleo::test {

// A TCP client that sends exactly the bytes it is given (request smuggling, slow and
// idle clients): no HTTP library in the way. Loopback only: `source` picks the client
// address within 127.0.0.0/8, so tests can play several clients.
class RawSocket {
 public:
  explicit RawSocket(unsigned short port, const std::string& source = "127.0.0.1");
  ~RawSocket();
  RawSocket(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // False once the peer has closed (EPIPE, ECONNRESET).
  bool send(std::string_view bytes);
  // Everything received until the peer closes or `quiet` passes with nothing new.
  std::string read_until_quiet(std::chrono::milliseconds quiet = std::chrono::milliseconds(1500));
  // True when the peer closes the connection within `within` (bytes it sends first are
  // read and dropped).
  bool closed_within(std::chrono::milliseconds within);
  void close();

 private:
  int fd_ = -1;
};

// The status codes of the HTTP responses in `bytes`, in order (each "HTTP/1.1 404 "
// status line).
std::vector<int> response_statuses(const std::string& bytes);

}  // namespace nucleo::test
