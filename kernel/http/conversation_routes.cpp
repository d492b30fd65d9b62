// The unified inbox (docs/channels.md, "The unified inbox"): every channel's
// conversations in one list, a conversation's thread, and the read/answered marks.
#include "kernel/domain/error.hpp"
#include "kernel/http/channel_routes.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"

namespace nucleo::http {
namespace {

Json conversation_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  Json nullable_instant = {{"type", {"string", "null"}}, {"format", "date-time"}};
  Json last = {{"type", "object"},
               {"required", {"id", "direction", "occurred_at", "kind", "preview", "delivery_status"}},
               {"properties",
                {{"id", text}, {"direction", text}, {"occurred_at", instant}, {"kind", nullable_text},
                 {"preview", {{"type", {"string", "null"}}, {"description", "the text's first 200 bytes"}}},
                 {"delivery_status", nullable_text}}},
               {"additionalProperties", false}};
  Json window = {{"type", {"object", "null"}},
                 {"description", "the channel's reply window (WhatsApp: 24 hours after the contact last wrote): "
                                 "free text only while open; null when the channel has none"},
                 {"properties",
                  {{"hours", {{"type", "integer"}}}, {"open", {{"type", "boolean"}}}, {"expires_at", nullable_instant}}}};
  return {{"type", "object"},
          {"required", {"id", "tenant_id", "channel_account_id", "type", "contact_id", "contact_name", "address",
                        "owner_id", "last_message", "last_inbound_at", "unread_count", "unread", "unanswered",
                        "read_at", "answered_at", "reply_window", "version", "created_at", "updated_at"}},
          {"properties",
           {{"id", text},
            {"tenant_id", text},
            {"channel_account_id", text},
            {"type", {{"type", "string"}, {"description", "whatsapp, email or sms"}}},
            {"contact_id", nullable_text},
            {"contact_name", nullable_text},
            {"address", {{"type", {"string", "null"}},
                         {"description", "the sender's address, for messages kept on no contact"}}},
            {"owner_id", nullable_text},
            {"last_message", last},
            {"last_inbound_at", nullable_instant},
            {"unread_count", {{"type", "integer"}}},
            {"unread", {{"type", "boolean"}}},
            {"unanswered", {{"type", "boolean"}, {"description", "the contact wrote last and nobody answered"}}},
            {"read_at", nullable_instant},
            {"answered_at", nullable_instant},
            {"reply_window", window},
            {"version", {{"type", "integer"}}},
            {"created_at", instant},
            {"updated_at", instant}}},
          {"additionalProperties", false}};
}

ApiResponse page_response(const services::ConversationPage& page, const std::string& collection,
                          const ApiSettings& settings) {
  ApiResponse r;
  r.body["data"] = Json::array();
  for (auto item : page.items) r.body["data"].push_back(std::move(item));
  r.body["next_cursor"] = page.next.empty() ? Json() : Json(encode_cursor(collection, page.next, settings.cursor_secret));
  return r;
}

}  // namespace

void add_conversation_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                             services::ConversationService::ChannelKinds traits) {
  auto service = [deps] { return services::ConversationService(deps); };
  // Who reads the inbox: whoever reads contacts and interactions; marking it is a write.
  std::vector<std::string> readers = services::every_role();
  std::vector<std::string> writers{"admin", "manager", "sales", "support", "marketing", "integration"};
  router.add(answering({"GET", "/v1/conversations", "list_conversations",
                        "The unified inbox: one row per contact per channel account, the most recent first, with the "
                        "last message, unread and unanswered state, the owner and the reply window",
                        AuthMode::bearer, "", "conversations",
                        {"channel", "contact_id", "owner_id", "unanswered", "limit", "cursor"},
                        [=](ApiRequest& req) {
                          services::InboxQuery q;
                          q.channel = text_parameter(req, "channel");
                          q.contact_id = text_parameter(req, "contact_id");
                          q.owner_id = text_parameter(req, "owner_id");
                          q.unanswered_only = flag_parameter(req, "unanswered");
                          q.limit = page_size(req, settings);
                          if (req.query.count("cursor"))
                            q.after = decode_cursor("conversations", req.query.at("cursor"), settings.cursor_secret);
                          return page_response(service().inbox(req.ctx, q, traits), "conversations", settings);
                        }},
                       200, page_schema(conversation_schema())),
             Access::of_roles(readers, "interactions:read"));
  router.add(answering({"GET", "/v1/conversations/{id}", "get_conversation", "One conversation of the inbox",
                        AuthMode::bearer, "", "conversations", {},
                        [=](ApiRequest& req) {
                          return record_response(service().conversation(req.ctx, req.params.at("id"), traits));
                        }},
                       200, conversation_schema()),
             Access::of_roles(readers, "interactions:read"));
  router.add(answering({"GET", "/v1/conversations/{id}/messages", "list_conversation_messages",
                        "A conversation's messages (interactions), newest last; next_cursor pages back to older ones",
                        AuthMode::bearer, "", "conversations", {"limit", "cursor"},
                        [=](ApiRequest& req) {
                          std::string collection = "conversations/" + req.params.at("id");
                          std::string before;
                          if (req.query.count("cursor"))
                            before = decode_cursor(collection, req.query.at("cursor"), settings.cursor_secret);
                          return page_response(
                              service().thread(req.ctx, req.params.at("id"), before, page_size(req, settings)),
                              collection, settings);
                        }},
                       200, page_schema(Json{{"$ref", "#/components/schemas/Interaction"}})),
             Access::of_roles(readers, "interactions:read"));
  for (const std::string what : {"read", "answered"}) {
    router.add(answering({"POST", "/v1/conversations/{id}/" + what, "mark_conversation_" + what,
                          what == "read" ? "Mark every message so far read (audited)"
                                         : "Mark the contact answered outside the channel, e.g. by phone (audited)",
                          AuthMode::bearer, "", "conversations", {},
                          [=](ApiRequest& req) {
                            return record_response(service().mark(req.ctx, req.params.at("id"), what, traits));
                          }},
                         200, conversation_schema()),
               Access::of_roles(writers, "interactions:write"));
  }
}

}  // namespace nucleo::http
