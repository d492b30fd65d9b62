// Issue #23 end to end: `nucleo serve` loads plugins/email by configuration; a message to
// a contact goes through the API, the job queue and the plugin to a real SMTP server on
// loopback (Debian's aiosmtpd: STARTTLS under a throwaway CA, AUTH) and lands in its
// Maildir encoded; the server's refusals and a wrong password end on the interaction and
// the account. The account's own mailbox is served by Debian's Dovecot over IMAP and
// synced every second: replies thread onto their conversation, bounces fail the message
// they return, a new UIDVALIDITY duplicates nothing, a server down is shown and caught up
// on. Both backends.
#include <ctime>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "kernel/audit/checkpoint.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/domain/digest.hpp"
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
        << "jobs.retry_first_ms = 50\njobs.retry_max_ms = 200\njobs.max_attempts = 3\n"
        << "plugins.email.config.poll = every 1s\n"
        << "automation.scan_schedule = every 1s\n";
    imap = std::make_unique<TestImapServer>(mail_dir.path(), "vendas@fornecedor.com.br", "s3cret");
    ApiFixture::SetUp();
    auto made = call("POST", "/v1/channels/accounts", admin, mailbox("s3cret"));
    ASSERT_EQ(made.status, 201) << made.raw.body;
    account = made.body["id"];
    auto ana = call("POST", "/v1/contacts", admin, {{"name", "Conceição Ribeiro"}, {"email", "conceicao@hospital.org.br"}});
    ASSERT_EQ(ana.status, 201) << ana.raw.body;
    contact = ana.body["id"];
    allow_messages(contact);
  }
  Json mailbox(const std::string& password, const std::string& address = "vendas@fornecedor.com.br") {
    return {{"plugin_id", "org.nucleo.email"},
            {"external_id", address},
            {"config", {{"address", address},
                        {"display_name", "Joana Araújo"},
                        {"smtp", {{"host", "127.0.0.1"}, {"port", smtp->port()}, {"security", "starttls"},
                                  {"username", "vendas@fornecedor.com.br"}}},
                        {"imap", {{"host", "127.0.0.1"}, {"port", imap->port()}, {"security", "none"}}},
                        {"hard_bounces_to_flag", 2},
                        {"keep_attachments", true}}},
            {"secrets", {{"smtp_password", password}}}};
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", config_dir.path() + "/nucleo.properties"};
  }

  // The inbound messages of `contact` once there are `n` of them, oldest first.
  Json inbound_of(const std::string& contact_id, std::size_t n) {
    return until("/v1/interactions?direction=inbound&limit=200&contact_id=" + contact_id,
                 [&](const Json& page) { return page["data"].size() >= n; })["data"];
  }
  // When Conceição's replies are dated: an hour from the suite's start, so they come after
  // the proposal whenever the suite runs (a fixed date became the past on its own day).
  static std::time_t reply_time() {
    static const std::time_t at = (std::time(nullptr) / 60 + 60) * 60;
    return at;
  }
  static std::string formatted(std::time_t t, const char* format) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[64];
    std::strftime(text, sizeof text, format, &tm);
    return text;
  }
  // What a mail client sends when Conceição answers `answered` (an id without <>).
  static std::string reply(const std::string& message_id, const std::string& answered, const std::string& from,
                           const std::string& subject, const std::string& text) {
    std::string threading = answered.empty() ? "" : "In-Reply-To: <" + answered + ">\r\nReferences: <" + answered + ">\r\n";
    return "From: " + from + "\r\nTo: Joana Araújo <vendas@fornecedor.com.br>\r\nSubject: " + subject +
           "\r\nDate: " + formatted(reply_time() - 3 * 3600, "%a, %d %b %Y %H:%M:%S -0300") + "\r\nMessage-ID: <" + message_id + ">\r\n" + threading +
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text +
           "\r\n";
  }
  // Sends `text` to `contact_id` and waits until it is sent; returns its interaction.
  Json send_to(const std::string& contact_id, const std::string& subject, const std::string& text) {
    auto sent = call("POST", "/v1/contacts/" + contact_id + "/messages", admin,
                     {{"channel_account_id", account}, {"purpose", "sales"}, {"subject", subject}, {"text", text}});
    EXPECT_EQ(sent.status, 202) << sent.raw.body;
    return interaction_when(sent.body["id"], "sent");
  }
  static std::string bare(const Json& external_id) {
    std::string id = external_id;
    return id.substr(1, id.size() - 2);
  }

  TempDir config_dir, mail_dir;
  std::unique_ptr<TestSmtpServer> smtp;
  std::unique_ptr<TestImapServer> imap;
  std::string account, contact;
};

TEST_P(Email, AMessageToAContactLandsInTheMailboxEncodedAndTheInteractionIsSent) {
  auto sent = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                   {{"channel_account_id", account}, {"purpose", "sales"},
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

// Issue #30: an e-mail sent for a purpose carries a one-click unsubscribe (RFC 8058);
// opening the link only asks, its POST revokes the purpose in the ledger, and the next
// message for that purpose is refused. A link altered or made for someone else is not.
TEST_P(Email, OneClickUnsubscribeRevokesThePurposeTheMessageWasSentFor) {
  send_to(contact, "Novidades da safra", "Confira as ofertas.");
  auto mail = smtp->delivered();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), std::string::npos) << mail[0];
  std::string prefix = "List-Unsubscribe: <http://127.0.0.1:" + std::to_string(port);
  auto at = mail[0].find(prefix);
  ASSERT_NE(at, std::string::npos) << mail[0];
  std::string path = mail[0].substr(at + prefix.size(), mail[0].find('>', at) - at - prefix.size());
  ASSERT_EQ(path.rfind("/v1/privacy/unsubscribe/", 0), 0u) << path;

  auto page = call_raw("GET", path, "", "");
  ASSERT_EQ(page.status, 200) << page.raw.body;
  EXPECT_EQ(page.raw.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.raw.body.find("<form method=\"post\">"), std::string::npos) << page.raw.body;
  EXPECT_EQ(call("GET", "/v1/contacts/" + contact + "/consents", admin).body["purposes"][0]["state"], "granted");

  std::string forged = path;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(call_raw("POST", forged, "", "List-Unsubscribe=One-Click",
                     {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
            404);
  std::string other = call("POST", "/v1/contacts", admin, {{"name", "Outra"}, {"email", "outra@hospital.org.br"}}).body["id"];
  std::string moved = path;
  moved.replace(moved.find(contact), contact.size(), other);
  EXPECT_EQ(call_raw("POST", moved, "", "List-Unsubscribe=One-Click",
                     {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
            404);

  for (int click = 0; click < 2; ++click) {  // a mail client may post twice: one revocation
    auto done = call_raw("POST", path, "", "List-Unsubscribe=One-Click",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(done.status, 200) << done.raw.body;
    EXPECT_NE(done.raw.body.find("Done"), std::string::npos) << done.raw.body;
  }
  Json ledger = call("GET", "/v1/contacts/" + contact + "/consents", admin).body;
  ASSERT_EQ(ledger["entries"].size(), 2u) << ledger;
  EXPECT_EQ(ledger["entries"][1]["action"], "revoke");
  EXPECT_EQ(ledger["entries"][1]["source"]["type"], "unsubscribe_link");
  EXPECT_EQ(ledger["entries"][1]["actor"], (Json{{"type", "system"}, {"id", "unsubscribe-link"}}));
  auto refused = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                      {{"channel_account_id", account}, {"purpose", "sales"}, {"subject", "Oi"}, {"text", "Oi"}});
  EXPECT_EQ(refused.status, 422) << refused.raw.body;
  EXPECT_EQ(refused.body["errors"][0]["code"], "no_legal_basis");
  EXPECT_EQ(smtp->delivered().size(), 1u);
}

TEST_P(Email, FilesGoAsAttachmentsAndTheInteractionDescribesThem) {
  std::string pdf = "%PDF-1.4\n" + std::string(200000, 'p') + "\n%%EOF\n";
  Json file = {{"name", "Proposta Técnica.pdf"}, {"type", "application/pdf"}, {"content_base64", to_base64(pdf)}};
  auto sent = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                   {{"channel_account_id", account}, {"purpose", "sales"}, {"subject", "Proposta"}, {"text", "Segue em anexo."},
                    {"attachments", Json::array({file})}});
  ASSERT_EQ(sent.status, 202) << sent.raw.body;
  EXPECT_EQ(sent.body["content"]["attachments"],
            Json::array({{{"name", "Proposta Técnica.pdf"}, {"type", "application/pdf"}, {"size", pdf.size()}}}))
      << "the interaction keeps what was sent, not the bytes";
  interaction_when(sent.body["id"], "sent");
  auto mail = smtp->delivered();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("multipart/mixed"), std::string::npos);
  EXPECT_NE(mail[0].find("filename*=UTF-8''Proposta%20T%C3%A9cnica.pdf"), std::string::npos) << mail[0].substr(0, 2000);
  EXPECT_NE(mail[0].find(to_base64(pdf).substr(0, 76)), std::string::npos) << "the file, base64 in 76-column lines";

  Json bad = file;
  bad["content_base64"] = "not base64!";
  auto refused = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                      {{"channel_account_id", account}, {"purpose", "sales"}, {"text", "x"}, {"attachments", Json::array({bad})}});
  EXPECT_EQ(refused.status, 422) << refused.raw.body;
  EXPECT_EQ(refused.body["errors"][0]["field"], "attachments/0/content_base64") << refused.raw.body;
  bad = file;
  bad["name"] = "../../etc/passwd";
  EXPECT_EQ(call("POST", "/v1/contacts/" + contact + "/messages", admin,
                 {{"channel_account_id", account}, {"purpose", "sales"}, {"text", "x"}, {"attachments", Json::array({bad})}})
                .status,
            422);
  Json eleven = Json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back({{"name", "a.txt"}, {"type", "text/plain"}, {"content_base64", "YQ=="}});
  EXPECT_EQ(call("POST", "/v1/contacts/" + contact + "/messages", admin,
                 {{"channel_account_id", account}, {"purpose", "sales"}, {"text", "x"}, {"attachments", eleven}})
                .status,
            422);
  EXPECT_EQ(smtp->delivered().size(), 1u) << "nothing refused was sent";
}

TEST_P(Email, TheServersRefusalAndAWrongPasswordEndOnTheInteractionAndTheAccount) {
  auto nobody = call("POST", "/v1/contacts", admin, {{"name", "Ninguém"}, {"email", "nobody@hospital.org.br"}});
  allow_messages(nobody.body["id"]);
  auto refused = call("POST", "/v1/contacts/" + nobody.body["id"].get<std::string>() + "/messages", admin,
                      {{"channel_account_id", account}, {"purpose", "sales"}, {"subject", "Oi"}, {"text", "Oi"}});
  ASSERT_EQ(refused.status, 202) << refused.raw.body;
  Json failed = interaction_when(refused.body["id"], "failed");
  EXPECT_NE(failed["content"].value("error", "").find("refused the message"), std::string::npos) << failed;

  auto patched = call("PATCH", "/v1/channels/accounts/" + account, admin, {{"secrets", {{"smtp_password", "wrong"}}}});
  ASSERT_EQ(patched.status, 200) << patched.raw.body;
  auto denied = call("POST", "/v1/contacts/" + contact + "/messages", admin,
                     {{"channel_account_id", account}, {"purpose", "sales"}, {"subject", "Oi"}, {"text", "Oi"}});
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
                        {{"channel_account_id", account}, {"purpose", "sales"}, {"template", {{"name", "x"}, {"language", "pt_BR"}}}});
  ASSERT_EQ(template_.status, 202) << template_.raw.body;  // queued, then refused by the channel
  Json failed = interaction_when(template_.body["id"], "failed");
  EXPECT_NE(failed["content"].value("error", "").find("no templates"), std::string::npos) << failed;
}

TEST_P(Email, RepliesInTheMailboxAreSyncedOntoTheirConversation) {
  Json proposal = send_to(contact, "Proposta de integração", "Segue a proposta.");
  std::string ours = bare(proposal["external_id"]);
  // Conceição answers; a colleague of hers answers too, from an address nobody knows.
  imap->deliver(reply("r1@hospital.org.br", ours, "Conceição Ribeiro <conceicao@hospital.org.br>",
                      "RE: Proposta de integração", "Recebido, obrigada!"));
  imap->deliver(reply("r2@hospital.org.br", ours, "Paulo Lima <paulo@hospital.org.br>", "RE: Proposta de integração",
                      "Eu cuido da parte técnica."));
  Json in = inbound_of(contact, 2);
  ASSERT_EQ(in.size(), 2u) << in;
  // Both carry the same Date: the list orders them by id, which is random within a
  // millisecond (the sync records both in one), so put them in the order they were sent.
  if (in[0]["external_id"] != "<r1@hospital.org.br>") std::swap(in[0], in[1]);
  EXPECT_EQ(in[0]["body"], "Recebido, obrigada!");
  EXPECT_EQ(in[0]["subject"], "RE: Proposta de integração");
  EXPECT_EQ(in[0]["external_id"], "<r1@hospital.org.br>");
  EXPECT_EQ(in[0]["delivery_status"], "received");
  EXPECT_EQ(in[0]["thread_id"], proposal["external_id"]) << "threaded by our Message-ID";
  EXPECT_EQ(in[0]["occurred_at"], formatted(reply_time(), "%Y-%m-%dT%H:%M:%SZ")) << "the Date header's, in UTC";
  EXPECT_EQ(in[1]["body"], "Eu cuido da parte técnica.") << "the unknown colleague's reply is the thread's";
  auto leads = call("GET", "/v1/contacts?email=paulo@hospital.org.br", admin);
  EXPECT_EQ(leads.body["data"].size(), 0u) << "no lead made for a reply on a known thread";

  // A later message with the subject only (a client that drops the headers) joins the
  // thread; the same message synced again (a copy in the mailbox) is recorded once.
  std::string later = reply("r3@hospital.org.br", "", "conceicao@hospital.org.br", "Res: Proposta de integração",
                            "Uma dúvida sobre o prazo.");
  imap->deliver(later);
  imap->deliver(later);
  in = inbound_of(contact, 3);
  bool threaded = false;
  for (const auto& m : in)
    if (m["external_id"] == "<r3@hospital.org.br>") threaded = m["thread_id"] == proposal["external_id"];
  EXPECT_TRUE(threaded) << "threaded by subject within the window: " << in;
  auto conversations = call("GET", "/v1/conversations?channel=email&contact_id=" + contact, admin);
  ASSERT_EQ(conversations.body["data"].size(), 1u) << "one conversation: sent and received" << conversations.raw.body;
  EXPECT_EQ(conversations.body["data"][0]["unanswered"], true) << conversations.raw.body;
  EXPECT_EQ(conversations.body["data"][0]["last_message"]["direction"], "inbound") << conversations.raw.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more polls
  EXPECT_EQ(call("GET", "/v1/interactions?direction=inbound&contact_id=" + contact, admin).body["data"].size(), 3u);

  // Erasing Conceição erases what her mail said, and a later poll brings none of it back.
  auto erased = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", contact}, {"reason", "titular request"}});
  ASSERT_EQ(erased.status, 201) << erased.raw.body;
  EXPECT_EQ(erased.body["interactions_erased"], 4) << "the proposal and the three replies";
  auto gone = call("GET", "/v1/interactions/" + in[0]["id"].get<std::string>(), admin);
  EXPECT_TRUE(gone.body["body"].is_null() && gone.body["subject"].is_null() && gone.body["content"].is_null())
      << gone.raw.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(call("GET", "/v1/interactions?direction=inbound&contact_id=" + contact, admin).body["data"].size(), 3u);
}

// Issue #31: a cadence's e-mail step goes out through the plugin to the real SMTP server,
// and the contact's answer, synced from the real IMAP mailbox, stops the cadence.
TEST_P(Email, ACadencesEmailGoesOutAndTheSyncedReplyStopsIt) {
  Json cadence = {{"name", "Proposta hospitalar"}, {"purpose", "sales"}, {"gap_hours", 0},
                  {"working_hours", {{"start", 0}, {"end", 24}, {"days", {0, 1, 2, 3, 4, 5, 6}}}},
                  {"steps", {{{"delay_days", 0}, {"type", "message"}, {"channel_account_id", account},
                              {"subject", "Proposta para {{contact.name}}"}, {"text", "Olá, {{contact.name}}!"}},
                             {{"delay_days", 2}, {"type", "message"}, {"channel_account_id", account},
                              {"subject", "Retomando"}, {"text", "Conseguiu ver?"}}}}};
  auto created = call("POST", "/v1/cadences", admin, cadence);
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string id = created.body["id"];
  ASSERT_EQ(call("POST", "/v1/cadences/" + id + "/enrolments", admin, {{"contact_id", contact}}).status, 201);
  Json stepped = until("/v1/cadences/" + id + "/enrolments", [](const Json& b) {
    return b["data"].size() == 1 && b["data"][0]["step"] == 1;
  });
  Json sent = interaction_when(stepped["data"][0]["history"][0]["interaction_id"], "sent");
  auto mail = smtp->delivered();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("Ol=C3=A1, Concei=C3=A7=C3=A3o Ribeiro!"), std::string::npos) << mail[0];
  imap->deliver(reply("r-cad@hospital.org.br", bare(sent["external_id"]), "Conceição Ribeiro <conceicao@hospital.org.br>",
                      "RE: Proposta", "Vamos conversar."));
  Json stopped = until("/v1/cadences/" + id + "/enrolments", [](const Json& b) {
    return b["data"].size() == 1 && b["data"][0]["status"] == "stopped";
  });
  EXPECT_EQ(stopped["data"][0]["stop_reason"], "replied");
  EXPECT_EQ(smtp->delivered().size(), 1u);
}

TEST_P(Email, ABounceFailsTheMessageItReturnsAndFlagsTheAddress) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    Json sent = send_to(contact, "Tentativa " + std::to_string(attempt), "Olá");
    std::string dsn =
        "From: MAILER-DAEMON@mx.hospital.org.br\r\nTo: vendas@fornecedor.com.br\r\nSubject: Undelivered Mail\r\n"
        "Message-ID: <dsn" + std::to_string(attempt) + "@mx.hospital.org.br>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.hospital.org.br\r\n\r\n"
        "Final-Recipient: rfc822; conceicao@hospital.org.br\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + sent["external_id"].get<std::string>() +
        "\r\n--r--\r\n";
    imap->deliver(dsn);
    Json failed = interaction_when(sent["id"], "failed");
    EXPECT_EQ(failed["content"]["error"], "bounced (5.1.1): 550 5.1.1 User unknown") << failed;
  }
  Json flagged = until("/v1/contacts/" + contact, [](const Json& c) {
    return c.value("attributes", Json::object()).value("email.bouncing", false);
  });
  EXPECT_EQ(flagged["attributes"]["email.hard_bounces"], 2);
  EXPECT_EQ(call("GET", "/v1/interactions?direction=inbound&contact_id=" + contact, admin).body["data"].size(), 0u)
      << "a bounce is not a message from the contact";
}

TEST_P(Email, ANewUidValidityAndAServerDownLoseAndRepeatNothing) {
  imap->deliver(reply("a1@hospital.org.br", "", "conceicao@hospital.org.br", "Pedido 1", "um"));
  imap->deliver(reply("a2@hospital.org.br", "", "conceicao@hospital.org.br", "Pedido 2", "dois"));
  inbound_of(contact, 2);
  imap->stop();
  Json down = until("/v1/channels/accounts/" + account, [](const Json& a) { return !a.value("problem", Json()).is_null(); });
  EXPECT_EQ(down["problem"]["code"], "imap_unreachable") << down;
  imap->deliver(reply("a3@hospital.org.br", "", "conceicao@hospital.org.br", "Pedido 3", "três"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Dovecot's UIDVALIDITY is the time
  imap->start(true);  // the mailbox numbered again: all three look new to IMAP
  Json in = inbound_of(contact, 3);
  until("/v1/channels/accounts/" + account, [](const Json& a) { return a.value("problem", Json()).is_null(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  in = call("GET", "/v1/interactions?direction=inbound&contact_id=" + contact, admin).body["data"];
  ASSERT_EQ(in.size(), 3u) << in;
  EXPECT_EQ(in[2]["body"], "três");
}

TEST_P(Email, ABacklogIsReadThroughSeveralConnectionsOnce) {
  const std::size_t backlog = 120;  // above 20 per extra connection: the sync opens 4
  for (std::size_t i = 0; i < backlog; ++i)
    imap->deliver(reply("b" + std::to_string(i) + "@hospital.org.br", "", "conceicao@hospital.org.br",
                        "Item " + std::to_string(i), "quantidade " + std::to_string(i)));
  Json in = inbound_of(contact, backlog);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more polls
  std::set<std::string> bodies;
  std::string cursor;
  do {
    auto page = call("GET", "/v1/interactions?direction=inbound&limit=200&contact_id=" + contact + cursor, admin);
    for (const auto& i : page.body["data"]) bodies.insert(i["body"].get<std::string>());
    EXPECT_EQ(page.body["data"].size(), backlog) << "each message once";
    cursor = page.body.value("next_cursor", Json()).is_string() ? "&cursor=" + page.body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  EXPECT_EQ(bodies.size(), backlog);
}

TEST_P(Email, FilesThatCameAreKeptForWhoMayReadTheMessageUntilSheIsErased) {
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 400000; ++i) pdf += static_cast<char>(i * 7 % 256);  // three chunks, every byte value
  std::string b64 = to_base64(pdf), lines;
  for (std::size_t at = 0; at < b64.size(); at += 76) lines += b64.substr(at, 76) + "\r\n";
  imap->deliver("From: conceicao@hospital.org.br\r\nSubject: Edital\r\nMessage-ID: <f1@h>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=F\r\n\r\n--F\r\nContent-Type: text/plain\r\n\r\nSegue o edital.\r\n"
                "--F\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''Edital%20n%C2%BA%207.pdf\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" + lines + "--F--\r\n");
  Json in = inbound_of(contact, 1);
  std::string id = in[0]["id"];
  EXPECT_EQ(in[0]["content"]["attachments"][0]["name"], "Edital nº 7.pdf");
  Reply file;
  for (int attempt = 0; attempt < 100; ++attempt) {  // the file is kept just after the message is recorded
    file = call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0", admin);
    if (file.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(file.status, 200) << file.raw.body.substr(0, 300);
  EXPECT_EQ(file.raw.body, pdf) << "the bytes as sent, from three chunks";
  EXPECT_EQ(file.raw.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/1", admin).status, 404);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/x", admin).status, 404);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/int_nobody/0", admin).status, 404);
  // Who may have it: an auditor reads interactions; another tenant's admin sees nothing;
  // an integration key needs the plugin's read scope and plugin_records:read.
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0", auditor).raw.body, pdf);
  std::string stranger = user_key(h->create_tenant("Outra Distribuidora"), "admin");
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0", stranger).status, 404);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0",
                 integration_key(h->tenant, Json::array({"interactions:read"})))
                .status,
            403);
  auto scoped = call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0",
                     integration_key(h->tenant, Json::array({"org.nucleo.email:read", "plugin_records:read",
                                                             "interactions:read"})));
  EXPECT_EQ(scoped.status, 200) << scoped.raw.body.substr(0, 300);

  auto erased = call("POST", "/v1/privacy/erasures", admin, {{"contact_id", contact}, {"reason", "titular request"}});
  ASSERT_EQ(erased.status, 201) << erased.raw.body;
  EXPECT_EQ(erased.body["plugin_records_deleted"], 3) << erased.raw.body;
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.email/attachments/" + id + "/0", admin).status, 404);
}

TEST_P(Email, BrokenMailIsLoggedAndTheRestOfTheMailboxSynced) {
  imap->deliver("Subject: nobody sent this\r\n\r\nno From at all\r\n");
  imap->deliver("From: conceicao@hospital.org.br\r\nSubject: charset\r\nMessage-ID: <k1@h>\r\n"
                "Content-Type: text/plain; charset=x-klingon\r\n\r\nq\xfa\xfa\r\n");
  imap->deliver("From: conceicao@hospital.org.br\r\nSubject: cabeçalho\r\nMessage-ID: <k2@h>\r\nX-Huge: " +
                std::string(100 * 1024, 'h') + "\r\nContent-Type: multipart/mixed; boundary=never\r\n\r\ncut short");
  std::string big = "From: conceicao@hospital.org.br\r\nSubject: planta\r\nMessage-ID: <k3@h>\r\n"
                    "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsegue a planta\r\n"
                    "--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=planta.pdf\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n";
  for (int i = 0; i < 20 * 1024 * 1024 / 57; ++i) big += std::string(76, 'Q') + "\r\n";
  imap->deliver(big + "--B--\r\n");
  imap->deliver(reply("k4@h", "", "conceicao@hospital.org.br", "Tudo certo", "a última"));
  Json in = inbound_of(contact, 4);
  ASSERT_EQ(in.size(), 4u) << "the message without a sender is skipped; the others are kept";
  // Messages without a Date are stamped when read, to the second: found by subject.
  std::map<std::string, Json> by_subject;
  for (const auto& m : in) by_subject[m.value("subject", "")] = m;
  EXPECT_EQ(by_subject["charset"]["content"]["problems"][0], "unknown charset x-klingon: the text part is kept as bytes");
  EXPECT_EQ(by_subject["planta"]["body"], "segue a planta");
  EXPECT_EQ(by_subject["planta"]["content"]["attachments"][0]["name"], "planta.pdf");
  EXPECT_GT(by_subject["planta"]["content"]["attachments"][0].value("size", std::size_t{0}), 20u * 1000 * 1000);
  EXPECT_EQ(by_subject["cabeçalho"]["subject"], "cabeçalho") << "a 100 KB header and a multipart cut short";
  EXPECT_EQ(by_subject["Tudo certo"]["body"], "a última");
}

// Issue #32 end to end: a proposal sent by e-mail arrives with its PDF attached, the very
// bytes whose SHA-256 the frozen revision keeps; the customer opens the public link with no
// credential (a page that runs no script), accepts it through the form, and the acceptance —
// revision and hash in the clear — is proven offline by `nucleo audit verify`.
TEST_P(Email, AProposalGoesOutWithItsPdfAndItsAcceptanceIsProvenOffline) {
  auto made = [&](const std::string& path, const Json& body) {
    auto r = call("POST", path, admin, body);
    EXPECT_EQ(r.status, 201) << path << " " << r.raw.body;
    return r.body.value("id", std::string());
  };
  std::string pipeline = made("/v1/pipelines", {{"name", "Hospitais"}});
  made("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 0}});
  made("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Ganho"}, {"position", 1}, {"kind", "won"}});
  std::string account_id = made("/v1/accounts", {{"legal_name", "Associação Hospitalar São João"}});
  std::string deal = made("/v1/deals", {{"name", "Cateteres 2027"}, {"account_id", account_id}, {"pipeline_id", pipeline}});
  std::string product = made("/v1/products", {{"name", "Cateter intravenoso periférico 22G"}, {"price", 1500000}});
  std::string id = made("/v1/proposals", {{"deal_id", deal}, {"contact_id", contact}, {"title", "Fornecimento de cateteres"},
                                          {"accept_moves_deal", true},
                                          {"lines", {{{"product_id", product}, {"quantity", 40}, {"discount_percent", 5}}}}});
  auto sent = call("POST", "/v1/proposals/" + id + "/send", admin,
                   {{"channel_account_id", account}, {"purpose", "sales"}, {"link_days", 7}});
  ASSERT_EQ(sent.status, 200) << sent.raw.body;
  std::string sha256 = sent.body["version"]["pdf_sha256"];
  interaction_when(sent.body["message"]["id"], "sent");

  // The PDF in the mailbox is the frozen revision's, byte for byte.
  auto mail = smtp->delivered();
  ASSERT_EQ(mail.size(), 1u);
  const std::string& m = mail[0];
  std::size_t part = m.find("proposta-" + id + "-v1.pdf");
  ASSERT_NE(part, std::string::npos) << m.substr(0, 3000);
  std::size_t body_at = m.find("\r\n\r\n", part);
  std::size_t end = m.find("\r\n--", body_at);
  std::string encoded;
  for (char c : m.substr(body_at + 4, end - body_at - 4))
    if (c != '\r' && c != '\n') encoded += c;
  auto attached = from_base64(encoded);
  ASSERT_TRUE(attached.has_value());
  EXPECT_EQ(sha256_hex(*attached), sha256);
  Json message = call("GET", "/v1/interactions/" + sent.body["message"]["id"].get<std::string>(), admin).body;
  EXPECT_NE(message["body"].get<std::string>().find(sent.body["link"]["path"].get<std::string>()), std::string::npos)
      << "the link is in the text";

  // The customer's browser: no credential, a page that runs no script and leaks no link.
  std::string page_path = sent.body["link"]["path"];
  auto page = call_raw("GET", page_path, "", "", {{"Accept", "text/html"}});
  ASSERT_EQ(page.status, 200) << page.raw.body;
  EXPECT_EQ(page.raw.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.raw.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.raw.header("Referrer-Policy"), "no-referrer");
  EXPECT_NE(page.raw.body.find("R$ 570.000,00"), std::string::npos);  // 40 × R$ 15.000,00 − 5%
  EXPECT_NE(page.raw.body.find("action=\"" + page_path + "/decision\""), std::string::npos);
  auto pdf = call_raw("GET", page_path + "/pdf", "", "");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(sha256_hex(pdf.raw.body), sha256);
  std::string tampered = page_path;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(call_raw("GET", tampered, "", "", {{"Accept", "text/html"}}).status, 404);
  EXPECT_EQ(call_raw("GET", tampered, "", "").raw.header("Content-Type"), "application/problem+json");

  auto accepted = call_raw("POST", page_path + "/decision", "", "decision=accept&name=Concei%C3%A7%C3%A3o+Ribeiro",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(accepted.status, 200) << accepted.raw.body;
  EXPECT_NE(accepted.raw.body.find("Proposta aceita"), std::string::npos);
  Json proposal = call("GET", "/v1/proposals/" + id, admin).body;
  EXPECT_EQ(proposal["status"], "accepted");
  EXPECT_EQ(proposal["decision"]["name"], "Conceição Ribeiro");
  EXPECT_EQ(proposal["decided_sha256"], sha256);
  EXPECT_EQ(call("GET", "/v1/deals/" + deal, admin).body["status"], "won");
  EXPECT_EQ(call("GET", "/v1/proposals/" + id + "/links", admin).body["data"][0]["view_count"], 1);

  // The compliance officer's proof, once a signed checkpoint covers the acceptance.
  Json bundle = until("/v1/proposals/" + id + "/proof", [](const Json& b) {
    for (const auto& e : b.value("events", Json::array()))
      if (e["leaf"].get<std::string>().find("proposal.accepted") != std::string::npos) return !e["proof"].is_null();
    return false;
  });
  std::string proven_hash;
  for (const auto& e : bundle["events"]) {
    Json leaf = Json::parse(e["leaf"].get<std::string>());
    if (leaf["action"] == "proposal.accepted") proven_hash = leaf["changes"]["decided_sha256"]["to"];
  }
  EXPECT_EQ(proven_hash, sha256) << "the leaf holds the accepted document's hash in the clear";
  std::ofstream(mail_dir.path() + "/proof.json") << bundle.dump();
  std::string note = bundle["checkpoint"];
  std::ofstream(mail_dir.path() + "/log.vkey") << audit::vkey(note.substr(0, note.find('\n')), signing_key->public_key()) << "\n";
  auto verified = run_process({NUCLEO_BINARY, "audit", "verify", mail_dir.path() + "/proof.json", "--vkey",
                               mail_dir.path() + "/log.vkey"}, {}, std::chrono::minutes(1));
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("PASS"), std::string::npos) << verified.out;
  // Accepting again, or after a change, is refused: decided is decided.
  EXPECT_EQ(call_raw("POST", page_path + "/decision", "", R"({"decision": "decline", "name": "Outra Pessoa"})",
                     {{"Content-Type", "application/json"}}).status,
            409);
}

INSTANTIATE_TEST_SUITE_P(Backends, Email, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
