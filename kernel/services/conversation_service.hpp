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

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class ConversationService {
 public:
  explicit ConversationService(ServiceDependencies deps) : deps_(deps) {}

  // Returns {"interaction": {…}, "matched_by": "contact" | "account" | "new_lead" | "none",
  // "duplicate": bool}. The interaction is inbound, `delivery_status` "received", on the
  // sender's contact and account, and on their one open deal when there is exactly one.
  Json receive(const CallContext& ctx, const std::string& channel_account_id, const Json& message);

  // Sends a message to a contact through a channel account (POST /v1/contacts/{id}/messages):
  // body {"channel_account_id", "text" | "template": {"name", "language", "components"?},
  // "reply_to"?: an interaction id, "deal_id"?}. The contact's phone (whatsapp, sms) or
  // e-mail (email) is the address. Records the outbound interaction (delivery_status
  // "queued", its type the channel's kind) and queues the channel message that carries its
  // id; returns the interaction. The delivery's outcome lands on it (settle_outbound).
  // `kind_of` names the kind of the channel a plugin offers on this node ("" for none).
  using ChannelKinds = std::function<std::string(const std::string& plugin_id)>;
  Json send(const CallContext& ctx, events::JobQueue& jobs, const std::string& contact_id, const Json& body,
            const ChannelKinds& kind_of);

  // What channel delivery learned of an outbound message (channel_delivery.cpp): "sent"
  // with {"external_id", "delivery_status"?}, or "failed" with {"error"}.
  void settle_outbound(const CallContext& ctx, const std::string& interaction_id, const std::string& status,
                       const Json& outcome);

  // A status the channel reports for a message it carried (conversations.status):
  // {"external_id", "status": "sent" | "delivered" | "read" | "failed", "error"?}. A
  // status never goes back (a late "delivered" after "read" changes nothing); an unknown
  // external id is not found. Returns the interaction.
  Json record_status(const CallContext& ctx, const std::string& channel_account_id, const Json& status);

 private:
  ServiceDependencies deps_;
};

// The forms a Brazilian mobile number takes: with and without the ninth digit
// ("+5511987654321" and "+551187654321"); other numbers are their own only form.
std::vector<std::string> phone_variants(const std::string& e164);

}  // namespace nucleo::services
