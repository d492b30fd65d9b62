// Issue #23: the e-mail channel's SMTP side against a real server on loopback — Debian's
// aiosmtpd (tests/support/smtp_server.py) with AUTH and STARTTLS under a throwaway CA made
// by openssl — composed by GMime, sent by libcurl, delivered into a Maildir.
#include <gtest/gtest.h>


#include "message.hpp"
#include "smtp.hpp"
#include "tests/support/mail_servers.hpp"

namespace nucleo::email {
namespace {

using test::TempDir;

const std::string host = "smtp.nucleo.test";  // only in the certificate: curl is pinned to 127.0.0.1

class SmtpTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new TempDir;
    test::make_certificates(dir->path(), "DNS:" + host);
    server = new test::TestSmtpServer(dir->path(), "joana", "s3cret");
    port = server->port();
  }
  static void TearDownTestSuite() {
    delete server;
    delete dir;
  }

  SmtpServer account() const {
    SmtpServer s;
    s.host = host;
    s.port = port;
    s.security = "starttls";
    s.username = "joana";
    s.password = "s3cret";
    s.address = "127.0.0.1";
    s.ca_file = dir->path() + "/ca.pem";
    s.timeout_ms = 10000;
    return s;
  }
  std::string message() const {
    Outgoing m;
    m.from = {"Joana Araújo", "joana@fornecedor.com.br"};
    m.to = {"Conceição Ribeiro", "conceicao@hospital.org.br"};
    m.subject = "Proposta comercial – São Paulo";
    m.text = "Olá, Conceição! Segue a proposta.\n";
    m.interaction_id = "int_01m8znspzyefx9zbq34f5bdsam";
    m.date_micros = 1'796'359'379'000'000;
    return compose(m);
  }

  static inline TempDir* dir = nullptr;
  static inline test::TestSmtpServer* server = nullptr;
  static inline int port = 0;
};

TEST_F(SmtpTest, AMessageGoesOverStartTlsWithAuthAndLandsInTheMailbox) {
  std::size_t before = server->delivered().size();
  SmtpOutcome o = smtp_send(account(), "joana@fornecedor.com.br", {"conceicao@hospital.org.br"}, message());
  EXPECT_EQ(o.kind, SmtpOutcome::Kind::sent) << o.detail;
  EXPECT_EQ(o.reply_code, 250);
  auto mail = server->delivered();
  ASSERT_EQ(mail.size(), before + 1);
  bool found = false;
  for (const auto& m : mail)
    found = found || m.find("Message-Id: <nucleo.int_01m8znspzyefx9zbq34f5bdsam@fornecedor.com.br>") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST_F(SmtpTest, TheServersRefusalsAreRetriedOrFinalByTheirCode) {
  SmtpOutcome busy = smtp_send(account(), "joana@fornecedor.com.br", {"busy@hospital.org.br"}, message());
  EXPECT_EQ(busy.kind, SmtpOutcome::Kind::retry) << busy.detail;
  EXPECT_EQ(busy.reply_code, 451);
  SmtpOutcome unknown = smtp_send(account(), "joana@fornecedor.com.br", {"nobody@hospital.org.br"}, message());
  EXPECT_EQ(unknown.kind, SmtpOutcome::Kind::failed) << unknown.detail;
  EXPECT_EQ(unknown.reply_code, 550);
  EXPECT_NE(unknown.detail.find("refused the message"), std::string::npos) << unknown.detail;
}

TEST_F(SmtpTest, WrongCredentialsAndAnUntrustedCertificateFailClearly) {
  SmtpServer wrong = account();
  wrong.password = "nope";
  SmtpOutcome denied = smtp_send(wrong, "joana@fornecedor.com.br", {"conceicao@hospital.org.br"}, message());
  EXPECT_EQ(denied.kind, SmtpOutcome::Kind::failed);
  EXPECT_TRUE(denied.credentials_refused) << denied.detail;
  EXPECT_NE(denied.detail.find("refused the login of joana"), std::string::npos) << denied.detail;

  SmtpServer system_cas = account();
  system_cas.ca_file.clear();  // the throwaway CA is not among the system's
  SmtpOutcome untrusted = smtp_send(system_cas, "joana@fornecedor.com.br", {"conceicao@hospital.org.br"}, message());
  EXPECT_EQ(untrusted.kind, SmtpOutcome::Kind::failed);
  EXPECT_NE(untrusted.detail.find("is not trusted"), std::string::npos) << untrusted.detail;

  SmtpServer other_name = account();
  other_name.host = "other.nucleo.test";  // pinned to the same server: its certificate names another host
  SmtpOutcome mismatch = smtp_send(other_name, "joana@fornecedor.com.br", {"conceicao@hospital.org.br"}, message());
  EXPECT_EQ(mismatch.kind, SmtpOutcome::Kind::failed) << mismatch.detail;
}

TEST_F(SmtpTest, AServerThatIsDownIsWorthRetrying) {
  SmtpServer down = account();
  down.port = test::free_port();
  SmtpOutcome o = smtp_send(down, "joana@fornecedor.com.br", {"conceicao@hospital.org.br"}, message());
  EXPECT_EQ(o.kind, SmtpOutcome::Kind::retry);
  EXPECT_EQ(o.reply_code, 0);
  EXPECT_NE(o.detail.find("cannot reach smtp.nucleo.test:"), std::string::npos) << o.detail;
}

}  // namespace
}  // namespace nucleo::email
