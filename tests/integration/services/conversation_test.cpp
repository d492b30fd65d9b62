// Issue #22, conversations: an inbound channel message becomes an interaction on the
// sender — matched by phone (with or without Brazil's ninth digit) or e-mail, on contacts
// first, then accounts; an unknown sender becomes a lead, never dropped; a redelivery
// creates nothing; the one open deal is attached only when unambiguous. Both backends.
#include "kernel/services/conversation_service.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/base64.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/channel_delivery.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class ConversationTest : public testing::TestWithParam<store::Backend> {
 protected:
  ConversationTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)), conversations(h.deps()) {
    channel = ChannelAccountService(h.deps()).create(ctx, {{"plugin_id", "org.nucleo.whatsapp"},
                                                           {"external_id", "106540352242922"}})["id"];
  }
  Json whatsapp(const std::string& id, const std::string& from, const std::string& text = "Bom dia") {
    return {{"external_id", id}, {"type", "whatsapp"}, {"from", {{"phone", from}, {"name", "Ana Lima"}}},
            {"text", text}, {"content", {{"kind", "text"}}}};
  }
  // A legal basis to write to a contact first (issue #30): a "sales" purpose on the
  // company's legitimate interest, as a B2B sender records it.
  void may_write_first(const std::string& contact) {
    ConsentService consents(h.deps());
    consents.define_purpose(ctx, "sales", {{"description", "commercial proposals and follow-ups"}});
    consents.record(ctx, contact, {{"purpose", "sales"}, {"action", "grant"}, {"legal_basis", "legitimate_interest"}});
  }
  int rows(const std::string& table) {
    return h.count("SELECT count(*) FROM " + table + " WHERE tenant_id = '" + h.tenant + "'");
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
  ConversationService conversations;
  std::string channel;
};

TEST_P(ConversationTest, AKnownContactIsFoundWithOrWithoutTheNinthDigit) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Hospital Santa Clara"}}).record["id"];
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"account_id", account},
                                                    {"phone", "+55 11 98765-4321"}}).record["id"];
  // WhatsApp's wa_id without the ninth digit, as older numbers arrive.
  Json received = conversations.receive(ctx, channel, whatsapp("wamid.A1", "551187654321"));
  EXPECT_EQ(received["matched_by"], "contact");
  EXPECT_EQ(received["duplicate"], false);
  const Json& i = received["interaction"];
  EXPECT_EQ(i["contact_id"], ana);
  EXPECT_EQ(i["account_id"], account);
  EXPECT_EQ(i["type"], "whatsapp");
  EXPECT_EQ(i["direction"], "inbound");
  EXPECT_EQ(i["delivery_status"], "received");
  EXPECT_EQ(i["body"], "Bom dia");
  EXPECT_EQ(i["channel"], channel);
  EXPECT_EQ(i["content"], (Json{{"kind", "text"}}));
  EXPECT_TRUE(i["deal_id"].is_null());  // no open deal

  EXPECT_EQ(conversations.receive(ctx, channel, whatsapp("wamid.A2", "5511987654321"))["interaction"]["contact_id"], ana);
  EXPECT_EQ(phone_variants("+5511987654321"), (std::vector<std::string>{"+5511987654321", "+551187654321"}));
  EXPECT_EQ(phone_variants("+551187654321"), (std::vector<std::string>{"+551187654321", "+5511987654321"}));
  EXPECT_EQ(phone_variants("+551133334444"), std::vector<std::string>{"+551133334444"});  // a landline
}

TEST_P(ConversationTest, ARedeliveryCreatesNothingNew) {
  Json first = conversations.receive(ctx, channel, whatsapp("wamid.B1", "+5521999990000"));
  int interactions = rows("interactions"), contacts = rows("contacts");
  Json again = conversations.receive(ctx, channel, whatsapp("wamid.B1", "+5521999990000", "changed in transit"));
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(again["interaction"]["id"], first["interaction"]["id"]);
  EXPECT_EQ(again["interaction"]["body"], "Bom dia");
  EXPECT_EQ(rows("interactions"), interactions);
  EXPECT_EQ(rows("contacts"), contacts);
}

TEST_P(ConversationTest, ABatchIsRecordedWholeAndOneBadMessageCostsOnlyItself) {
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  int audit_before = h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant + "'");
  // Two senders interleaved, one of them new (a lead), and a redelivery inside the batch.
  Json batch = Json::array({whatsapp("wamid.M1", "+5511987654321", "um"), whatsapp("wamid.M2", "+5531900001111", "dois"),
                            whatsapp("wamid.M3", "+5511987654321", "três"), whatsapp("wamid.M1", "+5511987654321", "um")});
  std::vector<Json> answers = conversations.receive_many(ctx, channel, batch);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0]["interaction"]["contact_id"], ana);
  EXPECT_EQ(answers[0]["interaction"]["body"], "um") << "answers come in the order given";
  EXPECT_EQ(answers[1]["matched_by"], "new_lead");
  EXPECT_EQ(answers[2]["interaction"]["body"], "três");
  EXPECT_EQ(answers[2]["conversation_id"], answers[0]["conversation_id"]);
  EXPECT_EQ(answers[3]["duplicate"], true);
  EXPECT_EQ(answers[3]["interaction"]["id"], answers[0]["interaction"]["id"]);
  EXPECT_EQ(rows("interactions"), 3);
  // Each message audited as one receive would be: the interaction, the lead, the conversations.
  EXPECT_GE(h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant + "'") - audit_before, 4);

  Json refused = whatsapp("wamid.M5", "+5511987654321");
  refused["type"] = "fax";
  std::vector<Json> mixed = conversations.receive_many(
      ctx, channel, Json::array({whatsapp("wamid.M4", "+5511987654321", "quatro"), refused,
                                 whatsapp("wamid.M6", "+5531900001111", "seis")}));
  EXPECT_EQ(mixed[0]["interaction"]["body"], "quatro");
  EXPECT_EQ(mixed[1]["error"]["code"], "validation") << mixed[1].dump();
  EXPECT_EQ(mixed[2]["interaction"]["body"], "seis");
  EXPECT_EQ(rows("interactions"), 5) << "the others are recorded";

  EXPECT_THROW(conversations.receive_many(ctx, channel, Json::array()), Error);
  Json too_many = Json::array();
  for (std::size_t i = 0; i <= ConversationService::max_batch; ++i) too_many.push_back(whatsapp("w" + std::to_string(i), "+5511987654321"));
  EXPECT_THROW(conversations.receive_many(ctx, channel, too_many), Error);
  EXPECT_EQ(rows("interactions"), 5);
}

TEST_P(ConversationTest, AnUnknownSenderBecomesALeadOrIsKeptOnNoContact) {
  Json received = conversations.receive(ctx, channel, whatsapp("wamid.C1", "+5531988887777"));
  EXPECT_EQ(received["matched_by"], "new_lead");
  Json lead = records.get(ctx, "contact", received["interaction"]["contact_id"]);
  EXPECT_EQ(lead["name"], "Ana Lima");
  EXPECT_EQ(lead["phone"], "+5531988887777");
  // The next message from the number finds the lead.
  EXPECT_EQ(conversations.receive(ctx, channel, whatsapp("wamid.C2", "+5531988887777"))["matched_by"], "contact");

  std::string keeping = ChannelAccountService(h.deps()).create(
      ctx, {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", "200"}, {"config", {{"unknown_senders", "keep"}}}})["id"];
  Json kept = conversations.receive(ctx, keeping, whatsapp("wamid.C3", "+5541977776666"));
  EXPECT_EQ(kept["matched_by"], "none");
  EXPECT_TRUE(kept["interaction"]["contact_id"].is_null());
  EXPECT_EQ(kept["interaction"]["body"], "Bom dia");  // kept, not dropped
}

TEST_P(ConversationTest, AccountsMatchWhenNoContactDoesAndTheOneOpenDealIsAttached) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Cooperativa Vale Verde"},
                                                        {"emails", {"compras@valeverde.coop.br"}}}).record["id"];
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Vendas"}}).record["id"];
  records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Novo"}, {"position", 0}});
  std::string deal = records.create(ctx, "deal", {{"name", "Sementes 27/28"}, {"account_id", account},
                                                  {"pipeline_id", pipeline}}).record["id"];
  Json email = {{"external_id", "<m1@valeverde.coop.br>"}, {"type", "email"},
                {"from", {{"email", "Compras@ValeVerde.coop.br"}}}, {"subject", "Pedido"}, {"text", "Segue o pedido"}};
  Json received = conversations.receive(ctx, channel, email);
  EXPECT_EQ(received["matched_by"], "account");
  EXPECT_EQ(received["interaction"]["account_id"], account);
  EXPECT_EQ(received["interaction"]["deal_id"], deal);
  EXPECT_EQ(received["interaction"]["subject"], "Pedido");
  // Two open deals and neither names the sender: no deal is guessed.
  records.create(ctx, "deal", {{"name", "Defensivos"}, {"account_id", account}, {"pipeline_id", pipeline}});
  email["external_id"] = "<m2@valeverde.coop.br>";
  EXPECT_TRUE(conversations.receive(ctx, channel, email)["interaction"]["deal_id"].is_null());
}

TEST_P(ConversationTest, BadMessagesAreRefusedNamingEachProblemAndErasureReachesTheContent) {
  try {
    conversations.receive(ctx, channel, {{"type", "fax"}, {"from", {{"phone", "abc"}}}, {"colour", "red"}});
    FAIL() << "accepted";
  } catch (const Error& e) {
    std::vector<std::string> fields;
    for (const auto& f : e.fields()) fields.push_back(f.field);
    EXPECT_EQ(fields, (std::vector<std::string>{"colour", "external_id", "type", "from/phone"}));
  }
  EXPECT_THROW(conversations.receive(ctx, "chn_00000000000000000000000000", whatsapp("x", "+5511987654321")), Error);

  Json received = conversations.receive(ctx, channel, whatsapp("wamid.D1", "+5511912345678", "meu CPF é 123"));
  std::string contact = received["interaction"]["contact_id"];
  PrivacyService(h.deps()).erase_contact(ctx, contact, "pedido do titular");
  Json erased = records.get(ctx, "interaction", received["interaction"]["id"]);
  EXPECT_TRUE(erased["body"].is_null());
  EXPECT_TRUE(erased["content"].is_null());
}

// Outbound: the message to a contact is an interaction whose delivery status follows the
// channel — queued by the API, sent by the plugin on a job worker, then delivered and
// read as the channel reports, never backwards; a failure keeps the channel's error.
TEST_P(ConversationTest, AnOutboundMessageIsAnInteractionThatFollowsTheChannel) {
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "test-node");
  std::vector<Json> sent;
  ChannelSender sender = [&](const std::string& plugin, const CallContext&, const Json& request) {
    EXPECT_EQ(plugin, "org.nucleo.whatsapp");
    sent.push_back(request);
    if (request["content"].value("text", "") == "falha")
      return std::optional<ChannelSendResult>(ChannelSendResult{ChannelSendResult::Kind::failed, Json::object(),
                                                                "131026: message undeliverable"});
    return std::optional<ChannelSendResult>(ChannelSendResult{
        ChannelSendResult::Kind::sent, {{"external_id", "wamid.OUT" + std::to_string(sent.size())}, {"delivery_status", "sent"}}, ""});
  };
  jobs.add(channel_delivery_job(h.deps(), sender, 3, h.clock));
  ConversationService::ChannelKinds kinds = [](const std::string& plugin) {
    return plugin == "org.nucleo.whatsapp" ? ChannelTraits{"whatsapp", 24} : ChannelTraits{};
  };
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  Json inbound = conversations.receive(ctx, channel, whatsapp("wamid.IN1", "+5511987654321"))["interaction"];

  Json out = conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "Olá, Ana!"},
                                                 {"reply_to", inbound["id"]}}, kinds);
  EXPECT_EQ(out["direction"], "outbound");
  EXPECT_EQ(out["delivery_status"], "queued");
  EXPECT_EQ(out["contact_id"], ana);
  EXPECT_EQ(jobs.run_once(), 1u);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["to"], "+5511987654321");
  EXPECT_EQ(sent[0]["content"]["reply_to"], "wamid.IN1");  // the channel's id of the message answered
  EXPECT_EQ(sent[0]["content"]["interaction_id"], out["id"]);
  Json now = records.get(ctx, "interaction", out["id"]);
  EXPECT_EQ(now["delivery_status"], "sent");
  EXPECT_EQ(now["external_id"], "wamid.OUT1");

  // Read arrives before delivered: it ends read.
  auto status = [&](const std::string& s) {
    return conversations.record_status(ctx, channel, {{"external_id", "wamid.OUT1"}, {"status", s}})["delivery_status"];
  };
  EXPECT_EQ(status("read"), "read");
  EXPECT_EQ(status("delivered"), "read");
  EXPECT_EQ(status("failed"), "read");
  EXPECT_THROW(conversations.record_status(ctx, channel, {{"external_id", "wamid.NOPE"}, {"status", "read"}}), Error);
  // A status names a message we sent: one about a message received changes nothing (an
  // e-mail bounce quoting a customer's Message-ID must not fail her message).
  Json received = conversations.record_status(ctx, channel, {{"external_id", "wamid.IN1"}, {"status", "failed"}});
  EXPECT_EQ(received["delivery_status"], "received");

  Json failing = conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "falha"}}, kinds);
  jobs.run_once();
  Json failed = records.get(ctx, "interaction", failing["id"]);
  EXPECT_EQ(failed["delivery_status"], "failed");
  EXPECT_EQ(failed["content"]["error"], "131026: message undeliverable");

  // Bad requests: both text and a template, a contact with no phone, someone else's reply.
  EXPECT_THROW(conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "x"},
                                                   {"template", {{"name", "t"}, {"language", "pt_BR"}}}}, kinds),
               Error);
  std::string mute = records.create(ctx, "contact", {{"name", "Sem telefone"}}).record["id"];
  try {
    conversations.send(ctx, jobs, mute, {{"channel_account_id", channel}, {"text", "x"}}, kinds);
    FAIL() << "sent to a contact without a phone";
  } catch (const Error& e) {
    EXPECT_EQ(e.fields().at(0).code, "no_address");
  }
  // Erasing Ana takes what was said to her and where it went out of the channel messages too.
  auto report = PrivacyService(h.deps()).erase_contact(ctx, ana, "pedido da titular");
  EXPECT_EQ(report.channel_messages_erased, 2u);
  EXPECT_EQ(h.count("SELECT count(*) FROM channel_messages WHERE content LIKE '%Ol%' OR recipient = '+5511987654321'"), 0);
  h.vacuum();  // PostgreSQL: what docs/compliance.md has the owner run after an erasure
  EXPECT_TRUE(h.places_holding("Olá, Ana!").empty()) << testing::PrintToString(h.places_holding("Olá, Ana!"));

  std::string bruno = records.create(ctx, "contact", {{"name", "Bruno"}, {"phone", "+5521988880000"}}).record["id"];
  try {
    conversations.send(ctx, jobs, bruno, {{"channel_account_id", channel}, {"text", "x"}, {"reply_to", inbound["id"]}},
                       kinds);
    FAIL() << "replied to another contact's message";
  } catch (const Error& e) {
    EXPECT_EQ(e.fields().at(0).field, "reply_to");
  }
}

// A burst from a new number handled by two workers at once makes one lead, not two.
TEST_P(ConversationTest, TwoMessagesFromANewNumberAtOnceMakeOneLead) {
  for (int round = 0; round < 5; ++round) {
    std::string phone = "+55219777700" + std::to_string(10 + round);
    std::vector<std::thread> workers;
    std::vector<std::string> contacts(2);
    for (int i = 0; i < 2; ++i)
      workers.emplace_back([&, i] {
        contacts[i] = conversations
                          .receive(ctx, channel, whatsapp("wamid.R" + std::to_string(round) + "-" + std::to_string(i), phone))
                          ["interaction"]["contact_id"];
      });
    for (auto& w : workers) w.join();
    EXPECT_EQ(contacts[0], contacts[1]) << "round " << round;
  }
  EXPECT_EQ(rows("contacts"), 5);
  EXPECT_EQ(rows("conversations"), 5);
}

// The unified inbox: one conversation per contact per channel account, the last message
// first; unread and unanswered follow the messages and the audited marks; the reply
// window opens with the contact's message and closes 24 hours later.
TEST_P(ConversationTest, TheInboxKeepsOneConversationPerContactAndChannel) {
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "test-node");
  ChannelSender accept = [](const std::string&, const CallContext&, const Json&) {
    return std::optional<ChannelSendResult>(ChannelSendResult{ChannelSendResult::Kind::sent, Json::object(), ""});
  };
  jobs.add(channel_delivery_job(h.deps(), accept, 3, h.clock));
  ConversationService::ChannelKinds kinds = [](const std::string& plugin) {
    return plugin == "org.nucleo.whatsapp" ? ChannelTraits{"whatsapp", 24} : ChannelTraits{};
  };
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  // A template may open a conversation; free text may not before the contact writes.
  try {
    conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "Olá"}}, kinds);
    FAIL() << "free text outside the reply window";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    EXPECT_EQ(e.fields().at(0).code, "outside_reply_window");
    EXPECT_NE(std::string(e.what()).find("template"), std::string::npos) << e.what();
  }
  may_write_first(ana);
  conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"purpose", "sales"},
                                      {"template", {{"name", "boas_vindas"}, {"language", "pt_BR"}}}},
                     kinds);
  h.clock.advance_micros(60'000'000);
  conversations.receive(ctx, channel, whatsapp("wamid.C1", "+5511987654321", "Oi, tudo bem?"));
  h.clock.advance_micros(60'000'000);
  conversations.receive(ctx, channel, whatsapp("wamid.C2", "+5511987654321", "Pode me ligar?"));
  h.clock.advance_micros(60'000'000);
  conversations.receive(ctx, channel, whatsapp("wamid.U1", "+5521977776666", "Quero um orçamento"));  // a new lead

  auto page = conversations.inbox(ctx, {}, kinds);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0]["last_message"]["preview"], "Quero um orçamento");  // the most recent first
  Json ana_chat = page.items[1];
  EXPECT_EQ(ana_chat["contact_id"], ana);
  EXPECT_EQ(ana_chat["contact_name"], "Ana Lima");
  EXPECT_EQ(ana_chat["unread_count"], 2);
  EXPECT_EQ(ana_chat["unanswered"], true);
  EXPECT_EQ(ana_chat["last_message"]["direction"], "inbound");
  EXPECT_EQ(ana_chat["reply_window"]["open"], true);
  std::string chat = ana_chat["id"];

  auto one = conversations.inbox(ctx, {.limit = 1}, kinds);  // paging
  ASSERT_EQ(one.items.size(), 1u);
  auto two = conversations.inbox(ctx, {.after = one.next, .limit = 1}, kinds);
  ASSERT_EQ(two.items.size(), 1u);
  EXPECT_EQ(two.items[0]["id"], chat);
  EXPECT_TRUE(two.next.empty());
  EXPECT_EQ(conversations.inbox(ctx, {.contact_id = ana}, kinds).items.size(), 1u);
  EXPECT_EQ(conversations.inbox(ctx, {.channel = "email"}, kinds).items.size(), 0u);
  EXPECT_EQ(conversations.inbox(ctx, {.channel = channel}, kinds).items.size(), 2u);

  auto thread = conversations.thread(ctx, chat, "", 2);  // newest last, paging back
  ASSERT_EQ(thread.items.size(), 2u);
  EXPECT_EQ(thread.items[0]["body"], "Oi, tudo bem?");
  EXPECT_EQ(thread.items[1]["body"], "Pode me ligar?");
  auto older = conversations.thread(ctx, chat, thread.next, 2);
  ASSERT_EQ(older.items.size(), 1u);
  EXPECT_EQ(older.items[0]["direction"], "outbound");  // the template that opened it
  EXPECT_TRUE(older.next.empty());

  Json read = conversations.mark(ctx, chat, "read", kinds);
  EXPECT_EQ(read["unread_count"], 0);
  EXPECT_EQ(read["unanswered"], true);  // read is not answered
  EXPECT_EQ(conversations.inbox(ctx, {.unanswered_only = true}, kinds).items.size(), 2u);
  // Answering in the channel answers the conversation.
  conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "Ligo às 15h"}}, kinds);
  EXPECT_EQ(conversations.inbox(ctx, {.unanswered_only = true}, kinds).items.size(), 1u);
  std::string lead_chat = conversations.inbox(ctx, {.unanswered_only = true}, kinds).items[0]["id"];
  EXPECT_EQ(conversations.mark(ctx, lead_chat, "answered", kinds)["unanswered"], false);
  EXPECT_TRUE(conversations.inbox(ctx, {.unanswered_only = true}, kinds).items.empty());
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action IN ('conversation.read', 'conversation.answered')") +
                h.count("SELECT count(*) FROM audit_log WHERE action IN ('conversation.read', 'conversation.answered')"),
            2);

  // 24 hours after the contact's last message, free text is refused again.
  h.clock.advance_micros(24 * 3'600'000'000LL);
  EXPECT_EQ(conversations.conversation(ctx, chat, kinds)["reply_window"]["open"], false);
  EXPECT_THROW(conversations.send(ctx, jobs, ana, {{"channel_account_id", channel}, {"text", "Oi?"}}, kinds), Error);

  // Another tenant sees none of it.
  std::string other = h.create_tenant("Outra");
  EXPECT_TRUE(conversations.inbox(h.context(other), {}, kinds).items.empty());
  EXPECT_THROW(conversations.conversation(h.context(other), chat, kinds), Error);
  EXPECT_THROW(conversations.mark(h.context(other), chat, "read", kinds), Error);
}

// A message delivered late (its own time before the conversation's last) counts as unread
// but does not become the last message; the party keeps one conversation.
TEST_P(ConversationTest, AMessageDeliveredLateCountsButDoesNotBecomeTheLast) {
  ConversationService::ChannelKinds kinds = [](const std::string&) { return ChannelTraits{"whatsapp", 24}; };
  conversations.receive(ctx, channel, whatsapp("wamid.L1", "+5511987654321", "Primeira"));
  h.clock.advance_micros(60'000'000);
  conversations.receive(ctx, channel, whatsapp("wamid.L2", "+5511987654321", "Segunda"));
  Json late = whatsapp("wamid.L0", "+5511987654321", "Atrasada");
  late["occurred_at"] = format_rfc3339(Timestamp{h.clock.now().micros - 120'000'000});
  conversations.receive(ctx, channel, late);
  auto page = conversations.inbox(ctx, {}, kinds);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0]["unread_count"], 3);
  EXPECT_EQ(page.items[0]["last_message"]["preview"], "Segunda");
  EXPECT_EQ(page.items[0]["unanswered"], true);
  EXPECT_EQ(rows("conversations"), 1);
  EXPECT_EQ(conversations.thread(ctx, page.items[0]["id"], "", 10).items.size(), 3u);
}

// A batch asks for its senders once, and finds each as a message on its own would: by any
// form of the number, a contact before an account holding the same address, an account
// when no contact holds it, and a new sender's lead for her second message.
TEST_P(ConversationTest, ABatchFindsItsSendersAsMessagesOnTheirOwnWould) {
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  std::string account = records.create(ctx, "account", {{"legal_name", "Cooperativa Vale Verde"},
                                                        {"emails", {"compras@valeverde.coop.br", "nf@valeverde.coop.br"}}})
                            .record["id"];
  std::string bia = records.create(ctx, "contact", {{"name", "Bia Souza"}, {"account_id", account},
                                                    {"email", "compras@valeverde.coop.br"}}).record["id"];
  auto email = [](const std::string& id, const std::string& from) {
    return Json{{"external_id", id}, {"type", "email"}, {"from", {{"email", from}}}, {"text", "Segue"}};
  };
  std::vector<Json> answers = conversations.receive_many(
      ctx, channel,
      Json::array({whatsapp("wamid.S1", "+551187654321"), email("<s2@vv>", "Compras@ValeVerde.coop.br"),
                   email("<s3@vv>", "nf@valeverde.coop.br"), whatsapp("wamid.S4", "+5531977776666"),
                   whatsapp("wamid.S5", "+5531977776666")}));
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0]["interaction"]["contact_id"], ana) << "the number without its ninth digit";
  EXPECT_EQ(answers[1]["matched_by"], "contact");
  EXPECT_EQ(answers[1]["interaction"]["contact_id"], bia) << "a contact before the account holding the address";
  EXPECT_EQ(answers[2]["matched_by"], "account");
  EXPECT_EQ(answers[2]["interaction"]["account_id"], account);
  EXPECT_TRUE(answers[2]["interaction"]["contact_id"].is_null());
  EXPECT_EQ(answers[3]["matched_by"], "new_lead");
  EXPECT_EQ(answers[4]["matched_by"], "contact") << "the lead her first message made";
  EXPECT_EQ(answers[4]["interaction"]["contact_id"], answers[3]["interaction"]["contact_id"]);
  EXPECT_EQ(answers[4]["conversation_id"], answers[3]["conversation_id"]);
}

// A batch files its messages at its end, a party's together: the conversation counts them
// all and keeps the latest as its last, as receiving them one by one would.
TEST_P(ConversationTest, ABatchFilesAPartysMessagesTogetherAsOneByOneWould) {
  ConversationService::ChannelKinds kinds = [](const std::string&) { return ChannelTraits{"whatsapp", 24}; };
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  std::string first = conversations.receive(ctx, channel, whatsapp("wamid.B0", "+5511987654321", "Antes"))["conversation_id"];
  h.clock.advance_micros(60'000'000);
  Json late = whatsapp("wamid.B1", "+5511987654321", "Atrasada");
  late["occurred_at"] = format_rfc3339(Timestamp{h.clock.now().micros - 120'000'000});
  Json latest = whatsapp("wamid.B3", "+5511987654321", "Última");
  latest["occurred_at"] = format_rfc3339(Timestamp{h.clock.now().micros + 1});
  std::vector<Json> answers = conversations.receive_many(
      ctx, channel,
      Json::array({late, whatsapp("wamid.N1", "+5531900001111", "Lead um"), latest,
                   whatsapp("wamid.B2", "+5511987654321", "Meio"), whatsapp("wamid.N2", "+5531900001111", "Lead dois"),
                   whatsapp("wamid.B1", "+5511987654321", "Atrasada")}));
  ASSERT_EQ(answers.size(), 6u);
  for (std::size_t i : {0u, 2u, 3u}) EXPECT_EQ(answers[i]["conversation_id"], first) << i;
  EXPECT_EQ(answers[5]["duplicate"], true);
  EXPECT_EQ(answers[5]["conversation_id"], first) << "a redelivery in the batch answers the first's conversation";
  ASSERT_TRUE(answers[1]["conversation_id"].is_string());
  EXPECT_NE(answers[1]["conversation_id"], first);
  EXPECT_EQ(answers[4]["conversation_id"], answers[1]["conversation_id"]);
  EXPECT_EQ(rows("conversations"), 2);

  auto page = conversations.inbox(ctx, {.contact_id = ana}, kinds);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0]["unread_count"], 4);
  EXPECT_EQ(page.items[0]["last_message"]["preview"], "Última");
  EXPECT_EQ(conversations.thread(ctx, first, "", 10).items.size(), 4u);
  Json lead_chat = conversations.conversation(ctx, answers[1]["conversation_id"], kinds);
  EXPECT_EQ(lead_chat["unread_count"], 2);
  EXPECT_EQ(lead_chat["last_message"]["preview"], "Lead dois");
  EXPECT_EQ(conversations.thread(ctx, answers[1]["conversation_id"], "", 10).items.size(), 2u);
}

// A batch asks once whether its messages were received before (write_batch.hpp): one
// received in an earlier batch is answered as the duplicate it is, with its interaction
// and conversation, one received twice in the batch creates one interaction, and a
// channel's id with quotes and backslashes is found as it was stored.
TEST_P(ConversationTest, ABatchKnowsTheMessagesItReceivedBeforeAsOneByOneWould) {
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"phone", "+5511987654321"}}).record["id"];
  const std::string odd = R"(wamid."quoted"\back\slash,{brace})";
  Json earlier = conversations.receive_many(ctx, channel, Json::array({whatsapp(odd, "+5511987654321", "Primeira")}))[0];
  ASSERT_EQ(earlier["duplicate"], false);
  int interactions = rows("interactions");
  std::vector<Json> answers = conversations.receive_many(
      ctx, channel,
      Json::array({whatsapp("wamid.K1", "+5511987654321", "Nova"), whatsapp(odd, "+5511987654321", "de novo"),
                   whatsapp("wamid.K2", "+5531900002222", "Lead"), whatsapp("wamid.K1", "+5511987654321", "Nova")}));
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0]["duplicate"], false);
  EXPECT_EQ(answers[0]["interaction"]["contact_id"], ana);
  EXPECT_EQ(answers[1]["duplicate"], true);
  EXPECT_EQ(answers[1]["interaction"]["id"], earlier["interaction"]["id"]);
  EXPECT_EQ(answers[1]["interaction"]["body"], "Primeira");
  EXPECT_EQ(answers[1]["conversation_id"], earlier["conversation_id"]);
  EXPECT_EQ(answers[2]["matched_by"], "new_lead");
  EXPECT_EQ(answers[3]["duplicate"], true);
  EXPECT_EQ(answers[3]["interaction"]["id"], answers[0]["interaction"]["id"]);
  EXPECT_EQ(rows("interactions"), interactions + 2);
  EXPECT_EQ(h.count("SELECT count(*) FROM interactions WHERE external_id = '" + std::string(odd) + "'"), 1);
}

// A batch asks once who sent its messages, the senders' latest messages a subject threads
// onto and the keys that seal their words in the audit trail (ADR 0030), and answers as
// one by one would: a phone written without the ninth digit finds its contact, a reply
// threads onto a message received before the batch and onto one of the batch itself, an
// unknown sender's second message finds the lead her first made, and the words are sealed
// under the contact's one key, which opens them.
TEST_P(ConversationTest, ABatchAsksItsSendersThreadsAndKeysOnceAndAnswersAsOneByOneWould) {
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"email", "ana@hospital.org.br"},
                                                    {"phone", "+5511987654321"}}).record["id"];
  std::string bruno = records.create(ctx, "contact", {{"name", "Bruno Reis"}, {"email", "bruno@coop.com.br"}}).record["id"];
  auto email = [](const std::string& id, const std::string& from, const std::string& subject) {
    return Json{{"external_id", id}, {"type", "email"}, {"from", {{"email", from}}}, {"subject", subject},
                {"text", "Texto de " + id}, {"subject_window_days", 30}};
  };
  Json before = conversations.receive(ctx, channel, email("<p1@hospital>", "ana@hospital.org.br", "Proposta São Paulo"));
  std::vector<Json> answers = conversations.receive_many(
      ctx, channel,
      Json::array({email("<b1@coop>", "bruno@coop.com.br", "Orçamento safra"),
                   email("<a2@hospital>", "Ana@Hospital.org.br", "RES: Proposta São Paulo"),
                   email("<b2@coop>", "bruno@coop.com.br", "Re: Orçamento safra"),
                   whatsapp("wamid.N1", "551187654321", "sem o nono dígito"),
                   email("<x1@novo>", "novo@desconhecido.com.br", "Olá"),
                   email("<x2@novo>", "novo@desconhecido.com.br", "Re: Olá")}));
  ASSERT_EQ(answers.size(), 6u);
  for (const auto& a : answers) ASSERT_FALSE(a.contains("error")) << a.dump();
  EXPECT_EQ(answers[0]["interaction"]["contact_id"], bruno);
  EXPECT_EQ(answers[0]["threaded_by"], nullptr);
  EXPECT_EQ(answers[1]["interaction"]["contact_id"], ana);
  EXPECT_EQ(answers[1]["threaded_by"], "subject");
  EXPECT_EQ(answers[1]["interaction"]["thread_id"], "<p1@hospital>");
  EXPECT_EQ(answers[2]["threaded_by"], "subject");  // onto the batch's own first message
  EXPECT_EQ(answers[2]["interaction"]["thread_id"], "<b1@coop>");
  EXPECT_EQ(answers[3]["matched_by"], "contact");
  EXPECT_EQ(answers[3]["interaction"]["contact_id"], ana);
  EXPECT_EQ(answers[4]["matched_by"], "new_lead");
  EXPECT_EQ(answers[5]["matched_by"], "contact");
  EXPECT_EQ(answers[5]["interaction"]["contact_id"], answers[4]["interaction"]["contact_id"]);
  EXPECT_EQ(answers[5]["threaded_by"], "subject");
  EXPECT_EQ(answers[1]["conversation_id"], before["conversation_id"]);
  EXPECT_EQ(answers[1]["conversation_id"], answers[3]["conversation_id"]);  // Ana's, whichever way she wrote
  EXPECT_EQ(h.count("SELECT count(*) FROM privacy_subject_keys WHERE subject_id = '" + ana + "'"), 1);
  // Ana's words of the batch open with her key, and match what the leaf committed to.
  const std::string interaction = answers[1]["interaction"]["id"];
  std::vector<Json> changes = h.json_column("SELECT changes FROM audit_pending WHERE entity_id = '" + interaction + "'");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0]["body"]["to"].contains("commitment"));
  Json opened = h.deps().database.read(h.tenant, [&](store::Transaction& tx) {
    std::string event, sealed, key;
    store::query(tx.session(),
                 "SELECT p.id, v.sealed, k.key FROM audit_pending p JOIN audit_sealed_values v ON v.event_id = p.id"
                 " JOIN privacy_subject_keys k ON k.tenant_id = v.tenant_id AND k.subject_id = v.subject_id"
                 " WHERE p.entity_id = :p0 AND v.field = 'body' AND v.side = 'to' AND v.subject_id = :p1",
                 {interaction, ana}, [&](const store::Row& r) {
                   event = store::required_text(r, 0), sealed = store::required_text(r, 1), key = store::required_text(r, 2);
                 });
    auto plain = audit::unseal(audit::hash_from_hex(key).value_or(audit::Hash{}),
                               audit::sealed_value_aad(event, "body", "to"), from_base64(sealed).value_or(""));
    return plain && plain->size() > 32 ? Json::parse(plain->substr(32)) : Json();
  });
  EXPECT_EQ(opened, "Texto de <a2@hospital>");
}

// A message a channel plugin hands over with a NUL character (a body decoded from base64)
// is refused naming the field — it failed as `internal` on PostgreSQL — and the batch's
// other messages are recorded.
TEST_P(ConversationTest, AMessageWithANulCharacterIsRefusedAndTheBatchGoesOn) {
  using namespace std::string_literals;
  std::vector<Json> answers = conversations.receive_many(
      ctx, channel,
      Json::array({whatsapp("wamid.Z1", "+5511987654321", "Bom dia"), whatsapp("wamid.Z\0"s + "2", "+5511987654321"),
                   whatsapp("wamid.Z3", "+5511987654321", "texto\0com NUL"s)}));
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0]["duplicate"], false);
  for (std::size_t i : {1u, 2u}) {
    ASSERT_TRUE(answers[i].contains("error")) << answers[i].dump();
    EXPECT_EQ(answers[i]["error"]["code"], "validation");
  }
  EXPECT_NE(answers[1]["error"]["message"].get<std::string>().find("external_id"), std::string::npos);
  EXPECT_NE(answers[2]["error"]["message"].get<std::string>().find("text"), std::string::npos);
  EXPECT_EQ(rows("interactions"), 1);
}

// A subject window beyond 0–365 days is refused however it is written: 2^32 + 30 once
// wrapped to 30 when read as an int, and a batch's look-back multiplied it unchecked.
TEST_P(ConversationTest, ASubjectWindowOutOfRangeIsRefusedEvenWhenItWouldWrap) {
  for (Json days : {Json(4294967326LL), Json(-1), Json(366), Json(std::numeric_limits<std::uint64_t>::max())}) {
    Json m = whatsapp("wamid.W" + days.dump(), "+5511987654321");
    m["subject"] = "Proposta";
    m["subject_window_days"] = days;
    std::vector<Json> answers = conversations.receive_many(ctx, channel, Json::array({m}));
    ASSERT_TRUE(answers[0].contains("error")) << days.dump() << " " << answers[0].dump();
    EXPECT_EQ(answers[0]["error"]["code"], "validation");
  }
  EXPECT_EQ(rows("interactions"), 0);
}

// Issue #23: an e-mail carries a subject and an HTML alternative; no other channel does.
TEST_P(ConversationTest, AnEmailCarriesItsSubjectAndHtmlToTheChannel) {
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "test-node");
  std::vector<Json> sent;
  jobs.add(channel_delivery_job(h.deps(), [&](const std::string&, const CallContext&, const Json& request) {
    sent.push_back(request);
    return std::optional<ChannelSendResult>(ChannelSendResult{
        ChannelSendResult::Kind::sent, {{"external_id", "<nucleo.x@fornecedor.com.br>"}, {"delivery_status", "sent"}}, ""});
  }, 3, h.clock));
  ConversationService::ChannelKinds kinds = [](const std::string& plugin) {
    return plugin == "org.nucleo.email" ? ChannelTraits{"email", 0} : ChannelTraits{"whatsapp", 24};
  };
  std::string mailbox = ChannelAccountService(h.deps()).create(ctx, {{"plugin_id", "org.nucleo.email"},
                                                                     {"external_id", "vendas@fornecedor.com.br"}})["id"];
  std::string ana = records.create(ctx, "contact", {{"name", "Ana Lima"}, {"email", "ana@hospital.org.br"},
                                                    {"phone", "+5511987654321"}}).record["id"];
  may_write_first(ana);
  Json out = conversations.send(ctx, jobs, ana, {{"channel_account_id", mailbox}, {"purpose", "sales"}, {"subject", "Proposta – São Paulo"},
                                                 {"text", "Segue a proposta."}, {"html", "<p>Segue a proposta.</p>"}},
                                kinds);
  EXPECT_EQ(out["type"], "email");
  EXPECT_EQ(out["subject"], "Proposta – São Paulo");
  EXPECT_EQ(out["content"]["html"], "<p>Segue a proposta.</p>");
  EXPECT_EQ(jobs.run_once(), 1u);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["to"], "ana@hospital.org.br");
  EXPECT_EQ(sent[0]["content"]["subject"], "Proposta – São Paulo");
  EXPECT_EQ(sent[0]["content"]["html"], "<p>Segue a proposta.</p>");
  EXPECT_EQ(sent[0]["content"]["text"], "Segue a proposta.");

  auto refused = [&](const std::string& account, const Json& extra, const std::string& field) {
    Json body = {{"channel_account_id", account}, {"text", "Oi"}};
    body.update(extra);
    try {
      conversations.send(ctx, jobs, ana, body, kinds);
      ADD_FAILURE() << body.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << e.what();
      ASSERT_FALSE(e.fields().empty()) << e.what();
      EXPECT_EQ(e.fields()[0].field, field) << e.what();
    }
  };
  refused(channel, {{"subject", "Oi"}}, "subject");  // WhatsApp has none
  refused(channel, {{"text", std::string(4097, 'a')}}, "text");  // nor room for an e-mail's body
  EXPECT_EQ(conversations.send(ctx, jobs, ana, {{"channel_account_id", mailbox}, {"purpose", "sales"}, {"text", std::string(20000, 'a')}},
                               kinds)["body"].get<std::string>().size(), 20000u);
  refused(mailbox, {{"subject", "Oi\r\nBcc: x@example.com"}}, "subject");
  refused(mailbox, {{"html", 42}}, "html");
}

TEST_P(ConversationTest, APluginReceivesOnlyOnItsOwnChannelAccounts) {
  CallContext as_whatsapp = ctx, as_other = ctx;
  as_whatsapp.actor = {"plugin", "org.nucleo.whatsapp", ""};
  as_other.actor = {"plugin", "org.example.sms", ""};
  EXPECT_EQ(conversations.receive(as_whatsapp, channel, whatsapp("wamid.P1", "+5511977776666"))["duplicate"], false);
  for (const auto& [who, account] : {std::pair{as_other, channel}, std::pair{as_whatsapp, std::string("chn_none")}}) {
    try {
      conversations.receive(who, account, whatsapp("wamid.P2", "+5511977776666"));
      FAIL() << who.actor.id << " received on " << account;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::not_found);
    }
  }
  EXPECT_EQ(rows("interactions"), 1);
  // Nor does it report statuses on another plugin's account.
  Json status = {{"external_id", "wamid.P1"}, {"status", "read"}};
  EXPECT_THROW(conversations.record_status(as_other, channel, status), Error);
  EXPECT_NO_THROW(conversations.record_status(as_whatsapp, channel, status));
}

// channels.resolve's memory (channels.cache_seconds): within its ttl a change made on
// another node is not seen yet; one made through this node is, at once.
TEST_P(ConversationTest, AResolvedAccountIsRememberedUntilItChangesHereOrItsTtlRunsOut) {
  ChannelAccountService accounts(h.deps());
  ResolvedChannelAccounts recent(std::chrono::seconds(5));
  const std::string plugin = "org.nucleo.whatsapp", number = "106540352242922";
  auto resolve = [&] { return accounts.resolve(plugin, number, &recent, h.clock.now()); };
  ASSERT_TRUE(resolve());
  auto another_node_sets = [&](const std::string& status) {
    h.deps().worker_database.write("", [&](store::Transaction& tx) {
      store::execute(tx.session(), "UPDATE channel_accounts SET status = :p0 WHERE id = :p1", {status, channel});
    });
  };
  another_node_sets("disabled");
  EXPECT_TRUE(resolve());  // remembered
  EXPECT_FALSE(accounts.resolve(plugin, number));  // a look-up sees it
  h.clock.advance_micros(5'000'001);
  EXPECT_FALSE(resolve());  // the ttl ran out

  another_node_sets("active");
  ASSERT_TRUE(resolve());
  accounts.update(ctx, channel, {{"status", "disabled"}}, std::nullopt);  // through this node
  EXPECT_FALSE(resolve());
  accounts.update(ctx, channel, {{"status", "active"}}, std::nullopt);
  EXPECT_TRUE(resolve());
  ResolvedChannelAccounts off;  // a ttl of zero keeps nothing
  ASSERT_TRUE(accounts.resolve(plugin, number, &off, h.clock.now()));
  another_node_sets("disabled");
  EXPECT_FALSE(accounts.resolve(plugin, number, &off, h.clock.now()));
}

INSTANTIATE_TEST_SUITE_P(Backends, ConversationTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
