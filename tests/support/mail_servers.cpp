#include "tests/support/mail_servers.hpp"

#include <dirent.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace nucleo::test {

void make_certificates(const std::string& dir, const std::string& subject_alt_name) {
  auto openssl = [](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");  // run_checked does not search PATH
    run_checked(args);
  };
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem",
           "-days", "2", "-subj", "/CN=Nucleo test CA"});
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr",
           "-subj", "/CN=Nucleo test server"});
  std::ofstream(dir + "/san.ext") << "subjectAltName=" << subject_alt_name << "\n";
  openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/san.ext"});
}

TestSmtpServer::TestSmtpServer(const std::string& dir, const std::string& user, const std::string& password)
    : maildir_(dir + "/Maildir") {
  // Another test may take the port between free_port() and the bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/bin/python3", std::string(NUCLEO_SOURCE_DIR) + "/tests/support/smtp_server.py", "--maildir", maildir_,
        "--user", user, "--password", password, "--cert", dir + "/server.pem", "--key", dir + "/server.key", "--port",
        std::to_string(port_)});
    for (int i = 0; i < 200 && process_->running() && !process_->listens_on(port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (process_->listens_on(port_)) return;
  }
  throw std::runtime_error("the SMTP server did not start: " + process_->stderr_so_far());
}

std::vector<std::string> TestSmtpServer::delivered() const {
  std::vector<std::string> out;
  if (DIR* d = opendir((maildir_ + "/new").c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.push_back(read_file(maildir_ + "/new/" + e->d_name));
    closedir(d);
  }
  return out;
}

}  // namespace nucleo::test
