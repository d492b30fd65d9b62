#pragma once

// Conversations (docs/channels.md): every message on any channel, in or out, is an
// interaction on the one customer record. This service takes an inbound message a
// channel plugin received and makes it one: it finds who sent it, by the channel's
// address, among the tenant's contacts and then its accounts; an unknown sender becomes
// a lead contact (or, when the channel account says `"unknown_senders": "keep"`, the
// message is kept on no contact) — never dropped. The same message delivered again
// (the channel's external id on the same channel account) creates nothing new.
//
//   receive(ctx, "chn_…", {"external_id": "wamid.…", "type": "whatsapp",
//                          "from": {"phone": "+5511987654321", "name": "Ana"},
//                          "text": "Bom dia", "occurred_at": "…",
//                          "content": {"kind": "text", …}})

#include <functional>
#include <string>
#include <vector>

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// What a channel plugin says of its channel (register_channel's spec).
struct ChannelTraits {
  std::string kind;             // whatsapp | email | sms ("": no channel on this node)
  int reply_window_hours = 0;   // free text only this long after the contact's last message (0: always)
};

struct InboxQuery {
  std::string channel;     // a type (whatsapp) or a channel account id (chn_…); empty: all
  std::string contact_id;
  std::string owner_id;    // the contact's owner
  bool unanswered_only = false;
  std::string after;       // the cursor's position: "<last_message_at µs>:<id>"
  std::size_t limit = 50;
};

struct ConversationPage {
  std::vector<Json> items;
  std::string next;  // the position after the last item ("" on the last page)
};

class ConversationService {
 public:
  explicit ConversationService(ServiceDependencies deps) : deps_(deps) {}

  // Returns {"interaction": {…}, "matched_by": "contact" | "account" | "new_lead" | "none",
  // "duplicate": bool, "conversation_id"}. The interaction is inbound, `delivery_status` "received", on the
  // sender's contact and account, and on their one open deal when there is exactly one.
  Json receive(const CallContext& ctx, const std::string& channel_account_id, const Json& message);

  // Several messages of one channel account (a mailbox's sync: at most max_batch), in
  // one transaction, each answered as receive() answers it. When one cannot be recorded
  // the transaction is given up and each is received on its own, so the others still
  // are; that one's answer is {"error": {"code", "message"}}.
  static constexpr std::size_t max_batch = 100;
  std::vector<Json> receive_many(const CallContext& ctx, const std::string& channel_account_id, const Json& messages);

  // Sends a message to a contact through a channel account (POST /v1/contacts/{id}/messages):
  // body {"channel_account_id", "text" | "template": {"name", "language", "components"?},
  // "reply_to"?: an interaction id, "deal_id"?}. The contact's phone (whatsapp, sms) or
  // e-mail (email) is the address. Records the outbound interaction (delivery_status
  // "queued", its type the channel's kind) and queues the channel message that carries its
  // id; returns the interaction. The delivery's outcome lands on it (settle_outbound).
  // `traits_of` says what channel a plugin offers on this node (no kind: none). A channel
  // with a reply window (WhatsApp: 24 hours) refuses free text once the contact's last
  // message is older than that (422 outside_reply_window: send a template).
  using ChannelKinds = std::function<ChannelTraits(const std::string& plugin_id)>;
  Json send(const CallContext& ctx, events::JobQueue& jobs, const std::string& contact_id, const Json& body,
            const ChannelKinds& traits_of);

  // What channel delivery learned of an outbound message (channel_delivery.cpp): "sent"
  // with {"external_id", "delivery_status"?}, or "failed" with {"error"}.
  void settle_outbound(const CallContext& ctx, const std::string& interaction_id, const std::string& status,
                       const Json& outcome);

  // A status the channel reports for a message it carried (conversations.status):
  // {"external_id", "status": "sent" | "delivered" | "read" | "failed", "error"?}. A
  // status never goes back (a late "delivered" after "read" changes nothing); an unknown
  // external id is not found. Returns the interaction.
  Json record_status(const CallContext& ctx, const std::string& channel_account_id, const Json& status);

  // The unified inbox (GET /v1/conversations): one row per contact (or unknown address)
  // per channel account, the most recent first, with the last message, unread and
  // unanswered state, the owner and — for channels that have one — the reply window.
  // Only conversations whose contact the caller may see.
  ConversationPage inbox(const CallContext& ctx, const InboxQuery& query, const ChannelKinds& traits_of);
  Json conversation(const CallContext& ctx, const std::string& id, const ChannelKinds& traits_of);
  // A conversation's messages (interactions), newest last; `before` pages back in time.
  ConversationPage thread(const CallContext& ctx, const std::string& id, const std::string& before, std::size_t limit);
  // Marks what a person did outside the record: read every message so far ("read"), or
  // answered the contact some other way ("answered"). Audited; returns the conversation.
  Json mark(const CallContext& ctx, const std::string& id, const std::string& what, const ChannelKinds& traits_of);

  // A contact merged into another (services/merge_service.hpp): her conversations become
  // the survivor's. On a channel account where the survivor has none, the conversation is
  // handed over; where both have one, her messages join the survivor's conversation and
  // hers is removed. Each is audited (conversation.merged). Returns how many moved. Runs
  // in the caller's transaction when there is one.
  std::size_t merge_conversations(const CallContext& ctx, const std::string& from_contact,
                                  const std::string& to_contact);

 private:
  // Files `interaction` (just logged, in the running transaction) under its
  // conversation, creating the conversation on a party's first message.
  // Returns the conversation's id.
  std::string thread_message(const CallContext& ctx, const std::string& channel_account_id, const Json& interaction,
                             const std::string& address);
  // A logged message waiting to be filed: `address` is the party when no contact is.
  struct Unfiled {
    Json interaction;
    std::string address;
  };
  // Files messages of one direction under their conversations at once: one upsert per
  // party (its messages counted together), then the messages' conversation ids, each a
  // few multi-row statements. Returns each message's conversation id, in order.
  std::vector<std::string> thread_messages(const CallContext& ctx, const std::string& channel_account_id,
                                           const std::vector<Unfiled>& messages);
  // What receive_many asked once for its batch, and the messages it files at its end.
  struct ReceiveBatch;
  void ask_for_batch(const CallContext& ctx, store::Transaction& tx, const std::string& channel_account_id,
                     const Json& messages, ReceiveBatch& batch);
  // receive(), one message of `batch` when given: its look-ups answered by what the batch
  // asked, the message filed into the batch's unfiled ones instead of its conversation.
  Json receive_one(const CallContext& ctx, const std::string& channel_account_id, const Json& message,
                   ReceiveBatch* batch);
  // Makes receives from one sender wait for each other (the first one's lead is found).
  void serialise_sender(const CallContext& ctx, const std::string& address);
  // The conversation an interaction is filed under (null: none).
  Json conversation_of(const CallContext& ctx, const std::string& interaction_id);
  ServiceDependencies deps_;
};

// The forms a Brazilian mobile number takes: with and without the ninth digit
// ("+5511987654321" and "+551187654321"); other numbers are their own only form.
std::vector<std::string> phone_variants(const std::string& e164);

}  // namespace nucleo::services
