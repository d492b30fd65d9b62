#include "tests/support/pgbouncer.hpp"

#include <unistd.h>

#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

namespace nucleo::test {

TestPgBouncer::TestPgBouncer(unsigned short postgres_port, const std::string& pool_mode, int server_connections) {
  const std::string& dir = dir_.path();
  std::ofstream(dir + "/users.txt") << "\"nucleo_app\" \"\"\n\"nucleo_worker\" \"\"\n\"nucleo_owner\" \"\"\n";
  port_ = free_port();
  std::ofstream(dir + "/pgbouncer.ini")
      << "[databases]\n* = host=127.0.0.1 port=" << postgres_port << "\n"
      << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << port_ << "\nunix_socket_dir =\n"
      << "auth_type = trust\nauth_file = " << dir << "/users.txt\n"
      << "pool_mode = " << pool_mode << "\ndefault_pool_size = " << server_connections << "\n"
      << "max_client_conn = 200\nlogfile = " << dir << "/pgbouncer.log\n"
      << "ignore_startup_parameters = extra_float_digits,options\n";
  std::vector<std::string> argv{"/usr/sbin/pgbouncer", dir + "/pgbouncer.ini"};
  if (geteuid() == 0) {
    // PgBouncer refuses to run as root: it switches to postgres, who must own its files.
    run_checked({"/bin/chown", "-R", "postgres", dir});
    argv = {"/usr/sbin/pgbouncer", "-u", "postgres", dir + "/pgbouncer.ini"};
  }
  process_ = std::make_unique<ChildProcess>(argv);
  for (int i = 0; i < 100; ++i) {
    if (!process_->running())
      throw std::runtime_error("pgbouncer did not start: " + process_->stderr_so_far() + log());
    if (process_->listens_on(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("pgbouncer did not listen on port " + std::to_string(port_) + ": " + log());
}

std::string TestPgBouncer::through(const std::string& libpq_url) const {
  return std::regex_replace(libpq_url, std::regex(R"(port=\d+)"), "port=" + std::to_string(port_));
}

std::string TestPgBouncer::log() const {
  return read_file(dir_.path() + "/pgbouncer.log");
}

}  // namespace nucleo::test
