// Issue #23: the e-mail channel's IMAP side against Debian's Dovecot on loopback
// (tests/support/mail_servers.hpp): libcurl reads the mailbox's UIDVALIDITY and UIDs,
// fetches messages whole, leaves unread mail unread, and says what went wrong.
#include <gtest/gtest.h>

#include "imap.hpp"
#include "inbound.hpp"
#include <filesystem>
#include <thread>

#include "tests/support/mail_servers.hpp"

namespace nucleo::email {
namespace {

using test::TempDir;

std::string message(const std::string& subject, const std::string& id) {
  return "From: Ana Souza <ana@cliente.com.br>\r\nTo: vendas@nucleo.test\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + id + ">\r\nDate: Fri, 04 Dec 2026 10:00:00 -0300\r\n\r\nOlá!\r\n";
}

// Messages whose Maildir file name carries the \Seen flag (":2,S…", Maildir's own record).
int seen_files(const std::string& maildir) {
  int seen = 0;
  for (const char* sub : {"/cur", "/new"})
    for (const auto& file : std::filesystem::directory_iterator(maildir + sub)) {
      std::string name = file.path().filename();
      auto info = name.find(":2,");
      if (info != std::string::npos && name.find('S', info) != std::string::npos) ++seen;
    }
  return seen;
}

class ImapTest : public testing::Test {
 protected:
  void SetUp() override { server = std::make_unique<test::TestImapServer>(dir.path(), "vendas", "s3nha"); }

  ImapServer account(const std::string& password = "s3nha") const {
    ImapServer s;
    s.host = "localhost";
    s.port = server->port();
    s.security = "none";
    s.username = "vendas";
    s.password = password;
    s.address = "127.0.0.1";
    s.timeout_ms = 10000;
    return s;
  }

  TempDir dir;
  std::unique_ptr<test::TestImapServer> server;
};

TEST_F(ImapTest, ReadsNewMessagesByUidAndLeavesUnreadMailUnread) {
  for (int i = 1; i <= 3; ++i) server->deliver(message("Pedido " + std::to_string(i), "m" + std::to_string(i) + "@cliente"));
  ImapMailbox box(account());
  auto status = box.status();
  EXPECT_GT(status.uidvalidity, 0u);
  EXPECT_EQ(status.uidnext, 4u);
  EXPECT_EQ(box.uids_between(1, 3), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(box.uids_between(3, 3), (std::vector<std::uint64_t>{3}));
  EXPECT_TRUE(box.uids_between(4, 10).empty()) << "4:10 names no message";
  EXPECT_EQ(box.unread_between(1, 3), (std::vector<std::uint64_t>{1, 2, 3}));

  Incoming second = parse_incoming(box.fetch(2));
  EXPECT_EQ(second.message_id, "m2@cliente");
  EXPECT_EQ(second.subject, "Pedido 2");
  EXPECT_EQ(parse_incoming(box.fetch(3)).message_id, "m3@cliente");
  EXPECT_EQ(box.unread_between(1, 3), (std::vector<std::uint64_t>{1, 2, 3})) << "a fetch sets no \\Seen";
  EXPECT_EQ(ImapMailbox(account()).unread_between(1, 3), (std::vector<std::uint64_t>{1, 2, 3}))
      << "another session sees them unread too";
  EXPECT_EQ(seen_files(server->maildir()), 0u) << "Dovecot keeps \\Seen in a Maildir file's name";

  server->deliver(message("Pedido 4", "m4@cliente"));
  ImapMailbox again(account());
  EXPECT_EQ(again.status().uidnext, 5u);
  EXPECT_EQ(again.uids_between(4, 4), (std::vector<std::uint64_t>{4}));
}

TEST_F(ImapTest, ANewUidValidityNumbersTheMailboxAgain) {
  server->deliver(message("Um", "a@x"));
  server->deliver(message("Dois", "b@x"));
  std::uint64_t before = ImapMailbox(account()).status().uidvalidity;
  server->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Dovecot's UIDVALIDITY is the time
  server->start(true);
  ImapMailbox box(account());
  auto status = box.status();
  EXPECT_NE(status.uidvalidity, before);
  EXPECT_EQ(box.uids_between(1, status.uidnext - 1).size(), 2u);
}

TEST_F(ImapTest, ALargeMailboxIsSearchedWholeInWindows) {
  // One SEARCH answer for 10,000 UIDs is a 49 KB line, and libcurl hands back only its
  // first 16 KB: the sync saw a third of a benchmark's mailbox before it searched in windows.
  const int count = 6000;
  for (int i = 0; i < count; ++i) server->deliver(message("Pedido " + std::to_string(i), std::to_string(i) + "@c"));
  ImapMailbox box(account());
  auto status = box.status();
  ASSERT_EQ(status.uidnext, count + 1u);
  auto uids = box.uids_between(1, status.uidnext - 1);
  ASSERT_EQ(uids.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) ASSERT_EQ(uids[i], i + 1u);
  EXPECT_EQ(box.unread_between(1, count).size(), static_cast<std::size_t>(count));
}

TEST_F(ImapTest, SaysWhatWentWrong) {
  try {
    ImapMailbox(account("wrong")).status();
    ADD_FAILURE() << "a wrong password was accepted";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::login) << e.what();
  }
  ImapServer missing = account();
  missing.mailbox = "Arquivo";
  try {
    ImapMailbox(missing).uids_between(1, 1);
    ADD_FAILURE() << "a missing folder was read";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::refused) << e.what();
  }
  server->deliver(std::string(300000, 'x'));
  ImapServer small = account();
  small.max_message_bytes = 100000;
  try {
    ImapMailbox(small).fetch(1);
    ADD_FAILURE() << "a message over the limit was fetched";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::too_large) << e.what();
  }
  server->stop();
  try {
    ImapMailbox(account()).status();
    ADD_FAILURE() << "a stopped server answered";
  } catch (const ImapError& e) {
    EXPECT_EQ(e.kind(), ImapError::Kind::unreachable) << e.what();
  }
}

}  // namespace
}  // namespace nucleo::email
