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

#include <string>

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

 private:
  ServiceDependencies deps_;
};

// The forms a Brazilian mobile number takes: with and without the ninth digit
// ("+5511987654321" and "+551187654321"); other numbers are their own only form.
std::vector<std::string> phone_variants(const std::string& e164);

}  // namespace nucleo::services
