#pragma once

// Debian's PgBouncer between the nodes and the PostgreSQL test server, as operators run
// it (issue #26): on 127.0.0.1 only, every database of the server, the Nucleo roles
// let in without a password (the test server trusts loopback too).

#include <memory>
#include <string>

#include "tests/support/process.hpp"

namespace nucleo::test {

class TestPgBouncer {
 public:
  // `pool_mode`: session, transaction or statement. `server_connections`: how many
  // server sessions each database and role shares — few, so that consecutive
  // transactions of one client connection land on different ones. Throws
  // std::runtime_error when it does not start.
  TestPgBouncer(unsigned short postgres_port, const std::string& pool_mode, int server_connections);
  unsigned short port() const { return port_; }
  // `libpq_url` (host=… port=… user=… dbname=…) with the host and port of the pooler.
  std::string through(const std::string& libpq_url) const;
  std::string log() const;

 private:
  TempDir dir_;
  unsigned short port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace nucleo::test
