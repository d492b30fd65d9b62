// Issue #23 end to end: `nucleo serve` loads plugins/email by configuration; a message to
// a contact goes through the API, the job queue and the plugin to a real SMTP server on
// loopback (Debian's aiosmtpd: STARTTLS under a throwaway CA, AUTH) and lands in its
// Maildir encoded; the server's refusals and a wrong password end on the interaction and
// the account. Both backends.
#include <fstream>
#include <functional>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/mail_servers.hpp"

namespace nucleo::test {
namespace {

class Email : public ApiFixture {
 protected:
  void SetUp() override {
    make_certificates(mail_dir.path(), "IP:127.0.0.1");
    smtp = std::make_unique<TestSmtpServer>(mail_dir.path(), "vendas@fornecedor.com.br", "s3cret");
    std::ofstream(config_dir.path() + "/nucleo.properties")
        << "plugins.email.file = " << EMAIL_PLUGIN_DIR << "\n"
        << "outbound.allow = 127.0.0.1/32\noutbound.ca_file = " << mail_dir.path() << "/ca.pem\n"
        << "jobs.poll_interval_ms = 20\njobs.retry_first_ms = 50\njobs.retry_max_ms = 200\njobs.max_attempts = 3\n";
    ApiFixture::SetUp();
    auto made = call("POST", "/v1/channels/accounts", admin, mailbox("s3cret"));
    ASSERT_EQ(made.status, 201) << made.raw.body;
    account = made.body["id"];
    auto ana = call("POST", "/v1/contacts", admin, {{"name", "Conceição Ribeiro"}, {"email", "conceicao@hospital.org.br"}});
    ASSERT_EQ(ana.status, 201) << ana.raw.body;
    contact = ana.body["id"];
  }
  Json mailbox(const std::string& password, const std::string& address = "vendas@fornecedor.com.br") {
    return {{"plugin_id", "org.nucleo.email"},
            {"external_id", address},
            {"config", {{"address", address},
                        {"display_name", "Joana Araújo"},
                        {"smtp", {{"host", "127.0.0.1"}, {"port", smtp->port()}, {"security", "starttls"},
                                  {"username", "vendas@fornecedor.com.br"}}}}},
            {"secrets", {{"smtp_password", password}}}};
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", config_dir.path() + "/nucleo.properties"};
  }

  TempDir config_dir, mail_dir;
  std::unique_ptr<TestSmtpServer> smtp;
  std::string account, contact;
};

TEST_P(Email, AMessageToAContactLandsInTheMailboxEncodedAndTheInteractionIsSent) {
  auto sent = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                   {{"channel_account_id", account},
                    {"subject", "Proposta comercial – São Paulo"},
                    {"text", "Olá, Conceição! Segue a proposta."},
                    {"html", "<p>Olá, Conceição! Segue a proposta.</p>"}});
  ASSERT_EQ(sent.status, 202) << sent.raw.body;
  EXPECT_EQ(sent.body["type"], "email");
  std::string id = sent.body["id"];
  Json done = interaction_when(id, "sent");
  EXPECT_EQ(done["external_id"], "<nucleo." + id + "@fornecedor.com.br>");
  auto mail = smtp->delivered();
  ASSERT_EQ(mail.size(), 1u);
  const std::string& m = mail[0];
  EXPECT_NE(m.find("Message-Id: <nucleo." + id + "@fornecedor.com.br>"), std::string::npos) << m;
  EXPECT_NE(m.find("To: conceicao@hospital.org.br"), std::string::npos) << m;
  EXPECT_NE(m.find("Subject: Proposta comercial =?UTF-8?"), std::string::npos) << m;  // RFC 2047
  EXPECT_NE(m.find("multipart/alternative"), std::string::npos) << m;
  EXPECT_NE(m.find("Ol=C3=A1, Concei=C3=A7=C3=A3o!"), std::string::npos) << m;  // quoted-printable UTF-8
  // In the inbox as the contact's e-mail conversation.
  auto inbox = call("GET", "/v1/conversations?channel=email", admin);
  ASSERT_EQ(inbox.status, 200) << inbox.raw.body;
  ASSERT_EQ(inbox.body["data"].size(), 1u) << inbox.raw.body;
  EXPECT_EQ(inbox.body["data"][0]["contact_id"], contact);
}

TEST_P(Email, TheServersRefusalAndAWrongPasswordEndOnTheInteractionAndTheAccount) {
  auto nobody = call("POST", "/v1/contacts", admin, {{"name", "Ninguém"}, {"email", "nobody@hospital.org.br"}});
  auto refused = call("POST", "/v1/contacts/" + nobody.body["id"].get<std::string>() + "/messages", admin,
                      {{"channel_account_id", account}, {"subject", "Oi"}, {"text", "Oi"}});
  ASSERT_EQ(refused.status, 202) << refused.raw.body;
  Json failed = interaction_when(refused.body["id"], "failed");
  EXPECT_NE(failed["content"].value("error", "").find("refused the message"), std::string::npos) << failed;

  auto patched = call("PATCH", "/v1/channels/accounts/" + account, admin, {{"secrets", {{"smtp_password", "wrong"}}}});
  ASSERT_EQ(patched.status, 200) << patched.raw.body;
  auto denied = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                     {{"channel_account_id", account}, {"subject", "Oi"}, {"text", "Oi"}});
  ASSERT_EQ(denied.status, 202) << denied.raw.body;
  interaction_when(denied.body["id"], "failed");
  Json shown = until("/v1/channels/accounts/" + account, [](const Json& a) { return !a.value("problem", Json()).is_null(); });
  EXPECT_EQ(shown["problem"]["code"], "smtp_login_refused");
  EXPECT_EQ(smtp->delivered().size(), 0u);
}

TEST_P(Email, AMailboxIsConfiguredAsTheChannelDeclaresAndSubjectsStayOnEmail) {
  Json bad = mailbox("x", "outra@fornecedor.com.br");
  bad["config"].erase("smtp");
  auto missing = call("POST", "/v1/channels/accounts", admin, bad);
  EXPECT_EQ(missing.status, 422) << missing.raw.body;
  EXPECT_NE(missing.raw.body.find("smtp"), std::string::npos) << missing.raw.body;
  bad = mailbox("x", "outra@fornecedor.com.br");
  bad["config"]["smtp"]["security"] = "ssl3";
  EXPECT_EQ(call("POST", "/v1/channels/accounts", admin, bad).status, 422);
  auto template_ = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                        {{"channel_account_id", account}, {"template", {{"name", "x"}, {"language", "pt_BR"}}}});
  ASSERT_EQ(template_.status, 202) << template_.raw.body;  // queued, then refused by the channel
  Json failed = interaction_when(template_.body["id"], "failed");
  EXPECT_NE(failed["content"].value("error", "").find("no templates"), std::string::npos) << failed;
}

INSTANTIATE_TEST_SUITE_P(Backends, Email, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
