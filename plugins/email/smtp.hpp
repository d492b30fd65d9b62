#pragma once

// Sending one message over SMTP with libcurl (ADR 0028): submission with STARTTLS, implicit
// TLS or (for a relay on the deployment's own network) none; AUTH when a user is given.
// The connection goes to the address the kernel checked (network.resolve), TLS verifies
// the server's certificate against the host name.

#include <string>
#include <vector>

namespace nucleo::email {

struct SmtpServer {
  std::string host;
  int port = 587;
  std::string security = "starttls";  // starttls | tls | none
  std::string username, password;     // no username: no AUTH
  std::string address;                // where to connect: one network.resolve answered
  std::string ca_file;                // PEM file or directory; empty: the system's CAs
  long timeout_ms = 30000;
};

struct SmtpOutcome {
  enum class Kind { sent, retry, failed } kind = Kind::failed;
  int reply_code = 0;  // the server's last SMTP reply, 0 when there was none
  std::string detail;  // for a person: what happened, the server's words when it spoke
  bool credentials_refused = false;  // the account's login is wrong (channels.report)
};

// Sends `message` (RFC 5322, CRLF) from `from` to each of `recipients`. A 4xx reply or a
// network failure is worth retrying; a 5xx reply, refused credentials or an untrusted
// certificate are not.
SmtpOutcome smtp_send(const SmtpServer& server, const std::string& from, const std::vector<std::string>& recipients,
                      const std::string& message);

}  // namespace nucleo::email
