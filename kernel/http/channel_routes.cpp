#include "kernel/http/channel_routes.hpp"

#include <memory>

#include "kernel/domain/error.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/conversation_service.hpp"

namespace nucleo::http {
namespace {

Json account_schema(bool creating) {
  Json text = {{"type", {"string", "null"}}, {"maxLength", 200}};
  Json secrets = {{"type", "object"},
                  {"additionalProperties", {{"type", creating ? Json("string") : Json({"string", "null"})}}},
                  {"description", "write-only: stored encrypted, never returned (secret_names lists them)"}};
  Json properties = {{"name", text}, {"config", {{"type", "object"}, {"additionalProperties", true}}}, {"secrets", secrets}};
  if (creating) {
    properties["plugin_id"] = {{"type", "string"}};
    properties["external_id"] = {{"type", "string"}, {"maxLength", 200}};
  } else {
    properties["status"] = {{"type", "string"}, {"enum", {"active", "disabled"}}};
  }
  Json schema = {{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
  if (creating) schema["required"] = {"plugin_id", "external_id"};
  return schema;
}

// A channel account as answered: never its secrets, only their names.
Json account_answer_schema() {
  Json text = {{"type", "string"}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  return {{"type", "object"},
          {"required", {"id", "tenant_id", "plugin_id", "external_id", "name", "config", "secret_names", "status",
                        "version", "created_at", "updated_at", "problem"}},
          {"properties",
           {{"id", text},
            {"tenant_id", text},
            {"plugin_id", text},
            {"external_id", text},
            {"name", {{"type", {"string", "null"}}}},
            {"config", {{"type", "object"}, {"additionalProperties", true}}},
            {"secret_names", {{"type", "array"}, {"items", text}}},
            {"status", {{"type", "string"}, {"enum", {"active", "disabled"}}}},
            {"version", {{"type", "integer"}}},
            {"created_at", instant},
            {"updated_at", instant},
            {"problem", {{"type", {"object", "null"}},
                         {"description", "what the channel's plugin last reported wrong (an expired token), "
                                         "until it clears it"},
                         {"properties", {{"code", text}, {"message", text}, {"at", instant}}}}}}},
          {"additionalProperties", false}};
}

// An outbound message as answered: queued, sent (with the channel's external id) or
// failed (with the error).
Json message_answer_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  return {{"type", "object"},
          {"required", {"id", "tenant_id", "account_id", "to", "content", "status", "external_id", "delivery_status",
                        "error", "attempts", "created_at", "updated_at"}},
          {"properties",
           {{"id", text},
            {"tenant_id", text},
            {"account_id", text},
            {"to", text},
            {"content", {{"type", {"string", "object"}}, {"additionalProperties", true}}},
            {"status", {{"type", "string"}, {"description", "queued, sent or failed"}}},
            {"external_id", nullable_text},
            {"delivery_status", nullable_text},
            {"error", nullable_text},
            {"attempts", {{"type", "integer"}}},
            {"created_at", instant},
            {"updated_at", instant}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_channel_routes(Router& router, services::ServiceDependencies deps,
                        std::optional<std::set<std::string>> loaded_plugins, events::JobQueue* jobs,
                        services::ConversationService::ChannelKinds channel_traits,
                        services::ChannelAccountService::ConfigSchemas config_schemas) {
  auto loaded = loaded_plugins ? std::make_shared<const std::set<std::string>>(*loaded_plugins) : nullptr;
  auto service = [deps, loaded, config_schemas] {
    return services::ChannelAccountService(deps, loaded.get(), config_schemas);
  };
  const std::string collection = "/v1/channels/accounts", one = collection + "/{id}";
  router.add(answering(Route{"POST", collection, "create_channel_account",
              "Register a tenant's account on a plugin's channel: external id (phone_number_id, mailbox), config "
              "and write-only secrets (admin)",
              AuthMode::bearer, "", "channels", {},
              [=](ApiRequest& req) { return record_response(service().create(req.ctx, req.json()), 201); },
              account_schema(true)}, 201, account_answer_schema()), Access::of_roles({"admin"}, "channel_accounts:write"));
  router.add(answering({"GET", collection, "list_channel_accounts", "The tenant's channel accounts, without secrets (admin)",
              AuthMode::bearer, "", "channels", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(service().list(req.ctx));
                return r;
              }}, 200, list_schema(account_answer_schema())), Access::of_roles({"admin"}, "channel_accounts:write"));
  router.add(answering({"GET", one, "get_channel_account", "One channel account, without secrets (admin)", AuthMode::bearer, "",
              "channels", {},
              [=](ApiRequest& req) { return record_response(service().get(req.ctx, req.params.at("id"))); }},
                       200, account_answer_schema()), Access::of_roles({"admin"}, "channel_accounts:write"));
  router.add(answering(honouring_if_match({"PATCH", one, "update_channel_account",
              "Change a channel account's name, config, secrets (null removes one) or status (If-Match; admin)",
              AuthMode::bearer, "", "channels", {},
              [=](ApiRequest& req) {
                return record_response(
                    service().update(req.ctx, req.params.at("id"), req.json(), expected_version(req)));
              },
              account_schema(false)}), 200, account_answer_schema()), Access::of_roles({"admin"}, "channel_accounts:write"));
  router.add(answering(Route{"POST", one + "/messages", "send_channel_message",
              "Send a message through a channel account: queued (202), handed to the plugin's send on a job worker; "
              "follow it at /v1/channels/messages/{id} (any role but auditor)",
              AuthMode::bearer, "", "channels", {},
              [=](ApiRequest& req) {
                if (!jobs) throw Error(ErrorCode::unavailable, "this server runs no job queue");
                ApiResponse r;  // a message has no version to make an ETag of
                r.status = 202;
                r.body = service().send(req.ctx, *jobs, req.params.at("id"), req.json());
                return r;
              },
              {{"type", "object"},
               {"required", {"to", "content"}},
               {"properties", {{"to", {{"type", "string"}}}, {"content", {{"type", {"string", "object"}}}}}},
               {"additionalProperties", false}}}, 202, message_answer_schema()), Access::of_roles({"admin", "manager", "sales", "support", "marketing", "integration"}, "channel_messages:write"));
  router.add(answering(Route{"POST", "/v1/contacts/{id}/messages", "send_message_to_contact",
              "Send a contact a message through a channel account (text, or a template); answers the outbound "
              "interaction (202), whose delivery_status follows the channel (queued, sent, delivered, read, failed)",
              AuthMode::bearer, "contact", "message", {},
              [=](ApiRequest& req) {
                if (!jobs) throw Error(ErrorCode::unavailable, "this server runs no job queue");
                ApiResponse r;
                r.status = 202;
                r.body = services::ConversationService(deps).send(req.ctx, *jobs, req.params.at("id"), req.json(),
                                                                  channel_traits);
                return r;
              },
              {{"type", "object"},
               {"required", {"channel_account_id"}},
               {"properties",
                {{"channel_account_id", {{"type", "string"}}},
                 {"purpose", {{"type", "string"}, {"pattern", "^[a-z][a-z0-9_]{0,63}$"},
                              {"description", "what the message is for (a consent purpose the contact's ledger must "
                                              "grant); without one, the message must answer the contact, who wrote on "
                                              "this channel account"}}},
                 {"text", {{"type", "string"}, {"maxLength", 100000},
                           {"description", "at most 4096 characters on WhatsApp and SMS"}}},
                 {"template", {{"type", "object"},
                               {"required", {"name", "language"}},
                               {"properties",
                                {{"name", {{"type", "string"}}},
                                 {"language", {{"type", "string"}, {"description", "pt_BR, en_US, …"}}},
                                 {"components", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}},
                 {"subject", {{"type", "string"}, {"maxLength", 500}, {"description", "e-mail channels only"}}},
                 {"html", {{"type", "string"}, {"maxLength", 100000},
                           {"description", "e-mail channels only: the HTML alternative of `text`"}}},
                 {"attachments",
                  {{"type", "array"},
                   {"minItems", 1},
                   {"maxItems", 10},
                   {"description", "e-mail channels only: files sent with the message, at most 5 MiB decoded in all "
                                   "(and within http.body_limit); the interaction keeps their name, type and size"},
                   {"items",
                    {{"type", "object"},
                     {"required", {"name", "type", "content_base64"}},
                     {"properties",
                      {{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", 255}}},
                       {"type", {{"type", "string"}, {"description", "a media type: application/pdf"}}},
                       {"content_base64", {{"type", "string"}, {"format", "byte"}}}}},
                     {"additionalProperties", false}}}}},
                 {"document",
                  {{"type", "object"},
                   {"description", "WhatsApp only: a file the channel fetches from a link (a proposal's PDF at its "
                                   "public link), the text its caption (at most 1024 characters)"},
                   {"required", {"url", "filename"}},
                   {"properties", {{"url", {{"type", "string"}, {"format", "uri"}}},
                                   {"filename", {{"type", "string"}, {"minLength", 1}, {"maxLength", 255}}}}},
                   {"additionalProperties", false}}},
                 {"reply_to", {{"type", "string"}, {"description", "an interaction of this conversation"}}},
                 {"deal_id", {{"type", "string"}}}}},
               {"additionalProperties", false}}},
                       202, Json{{"$ref", "#/components/schemas/Interaction"}}),
             Access::of_roles({"admin", "manager", "sales", "support", "marketing", "integration"},
                              "channel_messages:write"));
  router.add(answering({"GET", "/v1/channels/messages/{id}", "get_channel_message",
              "An outbound message: queued, sent (with the channel's external id) or failed (with the error)",
              AuthMode::bearer, "", "channels", {},
              [=](ApiRequest& req) {
                ApiResponse r;
                r.body = service().message(req.ctx, req.params.at("id"));
                return r;
              }}, 200, message_answer_schema()), Access::of_roles(services::every_role(), "channel_messages:read"));
  router.add(answering({"DELETE", one, "delete_channel_account", "Delete a channel account and its secrets (admin)",
              AuthMode::bearer, "", "channels", {}, [=](ApiRequest& req) {
                service().remove(req.ctx, req.params.at("id"));
                ApiResponse r;
                r.body = {{"id", req.params.at("id")}, {"deleted", true}};
                return r;
              }}, 200, deleted_schema()), Access::of_roles({"admin"}, "channel_accounts:write"));
}

}  // namespace nucleo::http
