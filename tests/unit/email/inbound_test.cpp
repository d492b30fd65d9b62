// Issue #23: what the e-mail channel reads out of a message (plugins/email/inbound.hpp) —
// encodings and charsets, threading ids, attachments, bounces — and that no input, however
// broken or large, makes it throw or hand back invalid UTF-8.
#include <gtest/gtest.h>
#include <glib.h>

#include "inbound.hpp"
#include "message.hpp"

namespace nucleo::email {
namespace {

// Valid UTF-8 with no NUL (g_utf8_validate refuses NUL within a length; no database keeps it).
bool utf8(const std::string& s) { return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr); }

void expect_valid(const Incoming& in) {
  for (const auto* s : {&in.message_id, &in.from.name, &in.from.address, &in.reply_to, &in.subject, &in.text, &in.html})
    EXPECT_TRUE(utf8(*s)) << *s;
  for (const auto& a : in.attachments) EXPECT_TRUE(utf8(a.name) && utf8(a.type));
  for (const auto& p : in.problems) EXPECT_TRUE(utf8(p));
}

TEST(Inbound, AReplyFromAMailClient) {
  std::string raw =
      "Return-Path: <ana@cliente.com.br>\r\n"
      "From: =?UTF-8?Q?Ana_Concei=C3=A7=C3=A3o?= <Ana@Cliente.com.br>\r\n"
      "Reply-To: compras@cliente.com.br\r\n"
      "To: Vendas <vendas@nucleo.test>\r\n"
      "Subject: =?ISO-8859-1?Q?Re:_Proposta_de_integra=E7=E3o?=\r\n"
      "Date: Fri, 04 Dec 2026 10:15:30 -0300\r\n"
      "Message-ID: <CAF=reply.1@mail.cliente.com.br>\r\n"
      "In-Reply-To: <nucleo.int_01ABC@nucleo.test>\r\n"
      "References: <first@cliente.com.br>\r\n <nucleo.int_01ABC@nucleo.test>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
      "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "Podemos fechar na sexta, Jos=C3=A9.\r\n"
      "--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "PHA+UG9kZW1vcyBmZWNoYXIgbmEgc2V4dGEsIEpvc8OpLjwvcD4=\r\n"
      "--b1--\r\n";
  Incoming in = parse_incoming(raw);
  EXPECT_EQ(in.message_id, "CAF=reply.1@mail.cliente.com.br");
  EXPECT_EQ(in.from.name, "Ana Conceição");
  EXPECT_EQ(in.from.address, "Ana@Cliente.com.br");
  EXPECT_EQ(in.reply_to, "compras@cliente.com.br");
  EXPECT_EQ(in.subject, "Re: Proposta de integração");
  EXPECT_EQ(in.date_micros, 1796390130LL * 1000000);
  EXPECT_EQ(in.text, "Podemos fechar na sexta, José.") << "the CRLF before a boundary is the boundary's";
  EXPECT_EQ(in.html, "<p>Podemos fechar na sexta, José.</p>");
  EXPECT_EQ(in.references, (std::vector<std::string>{"nucleo.int_01ABC@nucleo.test", "first@cliente.com.br"}))
      << "In-Reply-To first, then References newest first, no repeats";
  EXPECT_TRUE(in.attachments.empty());
  EXPECT_FALSE(in.bounce);
  EXPECT_TRUE(in.problems.empty());
}

TEST(Inbound, AttachmentsAreDescribedAndHtmlOnlyMailGetsText) {
  std::string raw =
      "From: ana@cliente.com.br\r\nSubject: Pedido\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=m\r\n\r\n"
      "--m\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n"
      "<html><style>p{}</style><p>Segue o pedido &amp; a nota</p><br>Obrigada, Concei\xe7\xe3o</html>\r\n"
      "--m\r\nContent-Type: application/pdf; name=\"pedido.pdf\"\r\nContent-Disposition: attachment; "
      "filename=\"pedido.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
      "--m--\r\n";
  Incoming in = parse_incoming(raw);
  EXPECT_EQ(in.text, "Segue o pedido & a nota\n\nObrigada, Conceição\n");
  ASSERT_EQ(in.attachments.size(), 1u);
  EXPECT_EQ(in.attachments[0].name, "pedido.pdf");
  EXPECT_EQ(in.attachments[0].type, "application/pdf");
  EXPECT_EQ(in.attachments[0].size, 9u);  // "%PDF-1.4\n"
  EXPECT_TRUE(in.attachments[0].content.empty()) << "content only when asked for";
  ParseOptions keep;
  keep.keep_attachment_content = true;
  EXPECT_EQ(parse_incoming(raw, keep).attachments[0].content, "%PDF-1.4\n");
}

TEST(Inbound, CharsetsUnlabelledUnknownAndLying) {
  Incoming unlabelled = parse_incoming("From: a@b.com\r\nSubject: x\r\n\r\nCota\xe7\xe3o anexa\r\n");
  EXPECT_EQ(unlabelled.text, "Cotação anexa\r\n") << "unlabelled 8-bit mail is read as Windows-1252";
  Incoming unknown = parse_incoming(
      "From: a@b.com\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nq\xfa\xfa\xfa\r\n");
  expect_valid(unknown);
  ASSERT_EQ(unknown.problems.size(), 1u);
  EXPECT_NE(unknown.problems[0].find("unknown charset x-klingon"), std::string::npos);
  ASSERT_EQ(unknown.undecoded.size(), 1u);
  EXPECT_EQ(unknown.undecoded[0], "q\xfa\xfa\xfa\r\n") << "kept as the bytes that came";
  Incoming lying = parse_incoming("From: a@b.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nol\xe1\r\n");
  expect_valid(lying);
  EXPECT_EQ(lying.problems.size(), 1u);
  Incoming raw_header = parse_incoming("From: Jos\xe9 <jose@b.com>\r\nSubject: Cota\xe7\xe3o\r\n\r\nx\r\n");
  expect_valid(raw_header);
  EXPECT_EQ(raw_header.from.address, "jose@b.com");
}

TEST(Inbound, ADeliveryStatusNotificationIsABounce) {
  std::string raw =
      "From: MAILER-DAEMON@mx.nucleo.test (Mail Delivery System)\r\nTo: vendas@nucleo.test\r\n"
      "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn.1@mx.nucleo.test>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
      "--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n"
      "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
      "Reporting-MTA: dns; mx.nucleo.test\r\n\r\n"
      "Final-Recipient: rfc822; ninguem@cliente.com.br\r\nOriginal-Recipient: rfc822;ninguem@cliente.com.br\r\n"
      "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <ninguem@cliente.com.br>:\r\n"
      "    Recipient address rejected: User unknown\r\n"
      "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
      "From: vendas@nucleo.test\r\nTo: ninguem@cliente.com.br\r\nMessage-ID: <nucleo.int_01XYZ@nucleo.test>\r\n"
      "--r--\r\n";
  Incoming in = parse_incoming(raw);
  ASSERT_TRUE(in.bounce);
  EXPECT_EQ(in.bounce->original_message_id, "nucleo.int_01XYZ@nucleo.test");
  EXPECT_EQ(in.bounce->recipient, "ninguem@cliente.com.br");
  EXPECT_EQ(in.bounce->status, "5.1.1");
  EXPECT_TRUE(in.bounce->hard);
  EXPECT_FALSE(in.bounce->delayed);
  EXPECT_EQ(in.bounce->diagnostic, "550 5.1.1 <ninguem@cliente.com.br>: Recipient address rejected: User unknown");

  std::string delayed = raw;
  delayed.replace(delayed.find("Action: failed"), 14, "Action: delayed");
  delayed.replace(delayed.find("Status: 5.1.1"), 13, "Status: 4.4.1");
  Incoming later = parse_incoming(delayed);
  ASSERT_TRUE(later.bounce);
  EXPECT_TRUE(later.bounce->delayed);
  EXPECT_FALSE(later.bounce->hard);
}

TEST(Inbound, AMailerDaemonInPlainWordsIsABounce) {
  std::string raw =
      "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nSubject: Delivery Status Notification (Failure)\r\n"
      "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
      "--z\r\nContent-Type: text/plain\r\n\r\nAddress not found\r\n"
      "The response was:\r\n550 5.1.1 The email account that you tried to reach does not exist.\r\n"
      "--z\r\nContent-Type: message/rfc822\r\n\r\n"
      "From: vendas@nucleo.test\r\nTo: sumiu@cliente.com.br\r\nMessage-ID: <nucleo.int_02@nucleo.test>\r\nSubject: x\r\n\r\nx\r\n"
      "--z--\r\n";
  Incoming in = parse_incoming(raw);
  ASSERT_TRUE(in.bounce);
  EXPECT_EQ(in.bounce->original_message_id, "nucleo.int_02@nucleo.test");
  EXPECT_EQ(in.bounce->recipient, "sumiu@cliente.com.br");
  EXPECT_EQ(in.bounce->status, "5.1.1");
  EXPECT_TRUE(in.bounce->hard);
  EXPECT_EQ(in.bounce->diagnostic, "550 5.1.1 The email account that you tried to reach does not exist.");
}

TEST(Inbound, BrokenAndHostileInputNeverThrows) {
  std::vector<std::string> inputs = {
      "",
      "not a message at all",
      "\r\n\r\n",
      "From: \r\nSubject: no sender\r\n\r\nbody",
      "From: a@b.com\r\nContent-Type: multipart/mixed; boundary=never\r\n\r\n--never\r\nContent-Type: text/plain\r\n\r\ncut",
      "From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary parameter",
      "From: a@b.com\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
      "From: a@b.com\r\nContent-Type: text/plain; charset=\"\"\r\n\r\nx",
      "From: a@b.com\r\nSubject: =?UTF-8?B?broken?=\r\nReferences: <<<>>> <a@b> <\r\n\r\nx",
      "From: a@b.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=q\r\n\r\n--q\r\n"
      "Content-Type: message/delivery-status\r\n\r\nFinal-Recipient\r\nAction:\r\n--q--",
      // A blank continuation line in a delivery report (found by fuzz_email_message).
      "From: a@b.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=q\r\n\r\n--q\r\n"
      "Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\n \r\n--q--",
      "From: a@b.com\r\nSubject: nul\0byte\r\n\r\nbody with \0 a NUL",
  };
  std::string nested = "From: a@b.com\r\n";
  for (int i = 0; i < 40; ++i)
    nested += "Content-Type: multipart/mixed; boundary=n" + std::to_string(i) + "\r\n\r\n--n" + std::to_string(i) + "\r\n";
  inputs.push_back(nested);
  inputs.back().assign("From: a@b.com\r\nSubject: nul\0byte\r\n\r\nbody with \0 a NUL", 53);  // the NULs kept
  for (const auto& raw : inputs) {
    Incoming in = parse_incoming(raw);
    expect_valid(in);
  }
  Incoming none = parse_incoming("From: \r\nSubject: no sender\r\n\r\nbody");
  EXPECT_TRUE(none.from.address.empty()) << "the sync skips it, saying why";
}

TEST(Inbound, HugeHeadersAndAttachments) {
  std::string header_100k = "From: a@b.com\r\nX-Padding: " + std::string(100 * 1024, 'a') + "\r\nSubject: " +
                            std::string(2000, 's') + "\r\n\r\nbody\r\n";
  Incoming in = parse_incoming(header_100k);
  EXPECT_EQ(in.from.address, "a@b.com");
  EXPECT_EQ(in.subject.size(), 500u) << "cut to what an interaction's subject holds";
  EXPECT_EQ(in.text, "body\r\n");

  std::string big = "From: a@b.com\r\nSubject: planta\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
                    "--B\r\nContent-Type: text/plain\r\n\r\nsegue\r\n"
                    "--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=planta.dwg\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n";
  std::string line(76, 'A');
  for (int i = 0; i < 20 * 1024 * 1024 / 57; ++i) big += line + "\r\n";
  big += "--B--\r\n";
  Incoming large = parse_incoming(big);
  ASSERT_EQ(large.attachments.size(), 1u);
  EXPECT_GT(large.attachments[0].size, 20u * 1000 * 1000);
  EXPECT_EQ(large.text, "segue");

  std::string long_text = "From: a@b.com\r\n\r\n" + std::string(300000, 'x') + "\xc3\xa9";
  EXPECT_LE(parse_incoming(long_text).text.size(), 100000u);
}

TEST(Inbound, DatesAndContentIds) {
  EXPECT_EQ(rfc3339_utc(1796390130LL * 1000000 + 5), "2026-12-04T13:15:30Z");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace nucleo::email

namespace nucleo::email {
namespace {

TEST(Inbound, FilesSentComeBackWhole) {
  Outgoing out;
  out.from = {"Joana Araújo", "vendas@fornecedor.com.br"};
  out.to = {"", "compras@hospital.org.br"};
  out.subject = "Proposta";
  out.text = "Segue a proposta.";
  out.html = "<p>Segue a proposta.</p>";
  std::string pdf = "%PDF-1.4\n" + std::string(70000, '\xff') + std::string(1, '\0') + "%%EOF\n";
  out.files = {{"Proposta Técnica – São Paulo.pdf", "application/pdf", pdf}, {"tabela.csv", "text/csv", "a;b\n1;2\n"}};
  std::string raw = compose(out);
  EXPECT_NE(raw.find("multipart/mixed"), std::string::npos);
  ParseOptions keep;
  keep.keep_attachment_content = true;
  Incoming in = parse_incoming(raw, keep);
  EXPECT_EQ(in.text, "Segue a proposta.");
  ASSERT_EQ(in.attachments.size(), 2u);
  EXPECT_EQ(in.attachments[0].name, "Proposta Técnica – São Paulo.pdf") << "RFC 2231 both ways";
  EXPECT_EQ(in.attachments[0].type, "application/pdf");
  EXPECT_EQ(in.attachments[0].content, pdf);
  EXPECT_EQ(in.attachments[1].content, "a;b\n1;2\n");
  EXPECT_EQ(from_base64("JVBERi0xLjQK"), "%PDF-1.4\n");
  EXPECT_FALSE(from_base64("not base64!"));
}

}  // namespace
}  // namespace nucleo::email
