#pragma once

// Reading one mailbox over IMAP with libcurl (ADR 0028): implicit TLS, STARTTLS or (on the
// deployment's own network) none; LOGIN with the account's password. Like SMTP, the
// connection goes to the address the kernel checked (network.resolve) and TLS verifies the
// server's certificate against the host name. One connection serves a whole sync.
//
// The sync reads the mailbox read-only (EXAMINE), so fetching a message leaves its flags
// alone: people reading the same mailbox in their own client still see what is new, and
// the server changes nothing (a Maildir server renames a file for every flag it sets,
// and every other session then rescans the folder).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nucleo::email {

struct ImapServer {
  std::string host;
  int port = 993;
  std::string security = "tls";  // tls | starttls | none
  std::string username, password;
  std::string mailbox = "INBOX";
  std::string address;  // where to connect: one network.resolve answered
  std::string ca_file;  // PEM file or directory; empty: the system's CAs
  long timeout_ms = 60000;
  std::size_t max_message_bytes = 50u << 20;  // a larger message is refused, not fetched whole
};

// What went wrong talking to the server; `kind` says what the sync does about it.
class ImapError : public std::runtime_error {
 public:
  enum class Kind {
    unreachable,  // no connection, a timeout, a dropped line: try again at the next poll
    login,        // the server refused the account's login: the admin must fix it
    refused,      // the server answered NO/BAD, or its certificate is not trusted
    too_large,    // one message over max_message_bytes (the rest of the mailbox goes on)
  };
  ImapError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class ImapMailbox {
 public:
  explicit ImapMailbox(ImapServer server);
  ~ImapMailbox();
  ImapMailbox(const ImapMailbox&) = delete;
  ImapMailbox& operator=(const ImapMailbox&) = delete;

  struct Status {
    std::uint64_t uidvalidity = 0;
    std::uint64_t uidnext = 0;
  };
  // STATUS: the mailbox's UIDVALIDITY and the next UID it will give (both required).
  Status status();
  // The UIDs of the messages from `first` to `last`, ascending (UID SEARCH). Ask for
  // windows of at most search_window UIDs: libcurl hands back at most 16 KB of one
  // untagged line and drops the rest of a longer SEARCH answer.
  std::vector<std::uint64_t> uids_between(std::uint64_t first, std::uint64_t last);
  // Those of them still unread (\Seen not set).
  std::vector<std::uint64_t> unread_between(std::uint64_t first, std::uint64_t last);
  static constexpr std::uint64_t search_window = 1000;
  // One message, whole (RFC 5322 bytes), its flags untouched. ImapError::too_large past
  // max_message_bytes.
  std::string fetch(std::uint64_t uid);

 private:
  std::string perform(const std::string& path, const std::string& command);
  std::string base_url() const;
  std::string mailbox_path() const;
  void examine();

  ImapServer server_;
  bool examined_ = false;
  struct Connection;
  std::unique_ptr<Connection> connection_;
};

// The numbers of an untagged "* SEARCH 1 2 3" answer; of an "[NAME n]" response code.
std::vector<std::uint64_t> search_answer(const std::string& response);
std::uint64_t response_code(const std::string& response, const std::string& name);

}  // namespace nucleo::email
