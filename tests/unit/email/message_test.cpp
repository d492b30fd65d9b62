// Issue #23: the e-mail channel's messages, composed by GMime and read back by it as a
// mail client would — Portuguese names and subjects survive the round trip encoded per
// RFC 2047, bodies in quoted-printable, text and HTML as alternatives, a reply threaded
// by In-Reply-To and References, and our Message-ID naming the interaction.
#include "message.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace nucleo::email {
namespace {

constexpr const char* interaction = "int_01m8znspzyefx9zbq34f5bdsam";

Outgoing proposal() {
  Outgoing m;
  m.from = {"Joana Araújo — Vendas", "joana@fornecedor.com.br"};
  m.to = {"Conceição Ribeiro", "conceicao@hospital.org.br"};
  m.subject = "Proposta comercial – São Paulo, condições de pagamento";
  m.text = "Olá, Conceição!\n\nSegue a proposta revisada: ação válida até sexta.\n";
  m.interaction_id = interaction;
  m.date_micros = 1'796'359'379'000'000;
  return m;
}

// The message as a client parses it.
struct Parsed {
  explicit Parsed(const std::string& raw) {
    GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
    GMimeParser* parser = g_mime_parser_new_with_stream(stream);
    message = g_mime_parser_construct_message(parser, nullptr);
    g_object_unref(parser);
    g_object_unref(stream);
  }
  ~Parsed() {
    if (message) g_object_unref(message);
  }
  std::string header(const char* name) const {
    const char* v = g_mime_object_get_header(GMIME_OBJECT(message), name);
    return v ? v : "";
  }
  std::string mailbox(GMimeAddressType type) const {
    InternetAddressList* list = g_mime_message_get_addresses(message, type);
    InternetAddress* a = internet_address_list_get_address(list, 0);
    return std::string(internet_address_get_name(a) ? internet_address_get_name(a) : "") + " <" +
           internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)) + ">";
  }
  static std::string text_of(GMimeObject* part) {
    char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    std::string out = text ? text : "";
    g_free(text);
    return out;
  }
  GMimeMessage* message = nullptr;
};

TEST(EmailMessage, PortugueseHeadersAndBodySurviveTheRoundTripEncoded) {
  std::string raw = compose(proposal());
  // Headers are 7-bit: every accent travels as an RFC 2047 encoded word.
  std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  for (unsigned char c : head) EXPECT_LT(c, 0x80) << head;
  EXPECT_NE(head.find("=?"), std::string::npos);
  EXPECT_NE(head.find("MIME-Version: 1.0"), std::string::npos);
  // CRLF throughout, as SMTP's DATA wants.
  for (std::size_t at = raw.find('\n'); at != std::string::npos; at = raw.find('\n', at + 1))
    ASSERT_EQ(raw[at - 1], '\r') << "bare LF at " << at;

  Parsed p(raw);
  ASSERT_NE(p.message, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(p.message), "Proposta comercial – São Paulo, condições de pagamento");
  EXPECT_EQ(p.mailbox(GMIME_ADDRESS_TYPE_FROM), "Joana Araújo — Vendas <joana@fornecedor.com.br>");
  EXPECT_EQ(p.mailbox(GMIME_ADDRESS_TYPE_TO), "Conceição Ribeiro <conceicao@hospital.org.br>");
  EXPECT_STREQ(g_mime_message_get_message_id(p.message), "nucleo.int_01m8znspzyefx9zbq34f5bdsam@fornecedor.com.br");
  EXPECT_EQ(p.header("Date").substr(0, 16), "Fri, 04 Dec 2026");
  GMimeObject* body = g_mime_message_get_mime_part(p.message);
  ASSERT_TRUE(GMIME_IS_TEXT_PART(body));
  EXPECT_EQ(g_mime_part_get_content_encoding(GMIME_PART(body)), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  EXPECT_STREQ(g_mime_object_get_content_type_parameter(body, "charset"), "utf-8");
  // CRLF on the wire, as every line of the message.
  EXPECT_EQ(Parsed::text_of(body), "Olá, Conceição!\r\n\r\nSegue a proposta revisada: ação válida até sexta.\r\n");
  EXPECT_TRUE(p.header("In-Reply-To").empty());  // a new thread
}

TEST(EmailMessage, PlainAsciiStaysSevenBitAndHtmlComesAsTheLastAlternative) {
  Outgoing m = proposal();
  m.subject = "Meeting on Monday";
  m.text = "See you at 10.\n";
  m.html = "<p>See you at <b>10</b>.</p>";
  Parsed p(compose(m));
  EXPECT_STREQ(g_mime_message_get_subject(p.message), "Meeting on Monday");
  GMimeObject* body = g_mime_message_get_mime_part(p.message);
  ASSERT_TRUE(GMIME_IS_MULTIPART(body));
  EXPECT_STREQ(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(body)), "alternative");
  GMimeMultipart* parts = GMIME_MULTIPART(body);
  ASSERT_EQ(g_mime_multipart_get_count(parts), 2);
  GMimeObject* plain = g_mime_multipart_get_part(parts, 0);
  GMimeObject* html = g_mime_multipart_get_part(parts, 1);
  EXPECT_STREQ(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(plain)), "plain");
  EXPECT_STREQ(g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(html)), "html");
  EXPECT_LE(g_mime_part_get_content_encoding(GMIME_PART(plain)), GMIME_CONTENT_ENCODING_7BIT);  // 7bit, said or not
  EXPECT_EQ(Parsed::text_of(html), "<p>See you at <b>10</b>.</p>");
}

TEST(EmailMessage, AReplyNamesTheThreadAndOurIdsLeadBackToTheInteraction) {
  Outgoing m = proposal();
  m.references = {"CAF=first@mail.gmail.com", "nucleo.int_01m8znsaggf89a39x4ab6sn8rq@fornecedor.com.br"};
  Parsed p(compose(m));
  EXPECT_EQ(p.header("In-Reply-To"), "<nucleo.int_01m8znsaggf89a39x4ab6sn8rq@fornecedor.com.br>");
  std::string references = p.header("References");  // folded: the ids apart by a space or a tab
  EXPECT_EQ(references.find("<CAF=first@mail.gmail.com>"), 0u) << references;
  EXPECT_EQ(references.find("<nucleo.int_01m8znsaggf89a39x4ab6sn8rq@fornecedor.com.br>"), 27u) << references;
  EXPECT_EQ(interaction_of("<nucleo.int_01m8znsaggf89a39x4ab6sn8rq@fornecedor.com.br>"), "int_01m8znsaggf89a39x4ab6sn8rq");
  EXPECT_EQ(interaction_of(message_id_for(interaction, "a@b.example")), interaction);
  EXPECT_EQ(interaction_of("<CAF=first@mail.gmail.com>"), std::nullopt);
  EXPECT_EQ(interaction_of("<nucleo.int_short@x.example>"), std::nullopt);
}

// Issue #30: a message sent for a purpose offers the one-click unsubscribe of RFC 8058.
TEST(EmailMessage, AnUnsubscribeLinkBecomesTheOneClickHeaders) {
  Outgoing m = proposal();
  EXPECT_EQ(Parsed(compose(m)).header("List-Unsubscribe"), "");
  m.unsubscribe_url = "https://crm.example.com/v1/privacy/unsubscribe/ten_a.con_b.marketing_email.0123456789abcdef0123456789abcdef";
  Parsed p(compose(m));
  EXPECT_EQ(p.header("List-Unsubscribe"), "<" + m.unsubscribe_url + ">");
  EXPECT_EQ(p.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  for (const std::string bad : {"ftp://x.example/u", "https://x.example/a b", "https://x.example/>\r\nBcc: y@z.example"}) {
    m.unsubscribe_url = bad;
    EXPECT_THROW(compose(m), std::invalid_argument) << bad;
  }
}

TEST(EmailMessage, NoCallerTextStartsAHeaderOfItsOwn) {
  Outgoing m = proposal();
  m.subject = "Oi\r\nBcc: everyone@example.com";
  m.to.name = "Ana\nX-Injected: yes";
  m.references = {"a@b.example>\r\nX-Evil: 1"};
  std::string raw = compose(m);
  std::string head = raw.substr(0, raw.find("\r\n\r\n"));
  EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\nX-Injected:"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\nX-Evil:"), std::string::npos) << head;
}

TEST(EmailMessage, WhatCannotBeSentIsRefusedNamingTheField) {
  for (const std::string bad : {"", "ana", "ana@", "@example.com", "ana@example", "ana maria@example.com",
                                "ana@example.com>", "a@b.example\r\nBcc: x@y.example"}) {
    Outgoing m = proposal();
    m.to.address = bad;
    try {
      compose(m);
      ADD_FAILURE() << "sent to '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("to: ", 0), 0u) << e.what();
    }
  }
  EXPECT_TRUE(is_address("conceicao@hospital.org.br"));
  Outgoing empty = proposal();
  empty.text.clear();
  EXPECT_THROW(compose(empty), std::invalid_argument);
}

}  // namespace
}  // namespace nucleo::email
