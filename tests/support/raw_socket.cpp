#include "tests/support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <stdexcept>

namespace nucleo::test {

RawSocket::RawSocket(unsigned short port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 || (ntohl(local.sin_addr.s_addr) >> 24) != 127)
    throw std::runtime_error("RawSocket: " + source + " is not a loopback address");
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throw std::runtime_error("bind " + source + ": " + std::strerror(errno));
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0)
    throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
}

RawSocket::~RawSocket() {
  close();
}

RawSocket::RawSocket(RawSocket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string RawSocket::read_until_quiet(std::chrono::milliseconds quiet) {
  std::string received;
  char buffer[8192];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) return received;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return received;
    received.append(buffer, static_cast<std::size_t>(n));
  }
}

bool RawSocket::closed_within(std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  char buffer[8192];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    if (::recv(fd_, buffer, sizeof buffer, 0) <= 0) return true;
  }
}

std::vector<int> response_statuses(const std::string& bytes) {
  // A response starts where the previous one's body ended: no line break before it.
  static const std::regex status_line(R"(HTTP/1\.[01] (\d{3}) )");
  std::vector<int> statuses;
  for (std::sregex_iterator it(bytes.begin(), bytes.end(), status_line), end; it != end; ++it)
    statuses.push_back(std::stoi((*it)[1]));
  return statuses;
}

}  // namespace nucleo::test
