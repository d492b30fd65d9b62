#pragma once

// Real mail servers for the e-mail channel's tests (issue #23), on loopback only.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace nucleo::test {

// A throwaway CA (dir/ca.pem) and a server certificate it signs (dir/server.pem, key
// dir/server.key) for `subject_alt_name` ("DNS:smtp.nucleo.test", "IP:127.0.0.1"), made by
// the openssl command; valid two days. Throws std::runtime_error when openssl fails.
void make_certificates(const std::string& dir, const std::string& subject_alt_name);

// Debian's aiosmtpd (tests/support/smtp_server.py) on 127.0.0.1, requiring AUTH as
// `user` and STARTTLS with dir/server.pem, delivering into dir/Maildir. Throws
// std::runtime_error when it does not start.
class TestSmtpServer {
 public:
  TestSmtpServer(const std::string& dir, const std::string& user, const std::string& password);
  unsigned short port() const { return port_; }
  // The messages delivered so far, whole.
  std::vector<std::string> delivered() const;

 private:
  std::string maildir_;
  unsigned short port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Debian's Dovecot serving one user's Maildir over IMAP on 127.0.0.1 (no TLS), rootless:
// its config, sockets and state live in `dir`; as root it runs as `nobody` (its login
// processes refuse root). Mail is put in place by deliver(), as a local delivery agent would.
class TestImapServer {
 public:
  TestImapServer(const std::string& dir, const std::string& user, const std::string& password);
  ~TestImapServer();
  unsigned short port() const { return port_; }
  // Writes one message into the user's Maildir/new; returns its file name.
  std::string deliver(const std::string& message);
  void stop();
  // Starts again on the same port; `new_uidvalidity`: the mailbox's UID list is dropped
  // first, so Dovecot numbers every message again under another UIDVALIDITY.
  void start(bool new_uidvalidity = false);
  std::string maildir() const { return dir_ + "/mail/" + user_ + "/Maildir"; }

 private:
  void write_config(const std::string& password);
  void own_for_server() const;
  std::string dir_, user_;
  unsigned short port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace nucleo::test
