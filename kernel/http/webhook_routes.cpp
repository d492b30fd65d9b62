#include "kernel/http/webhook_routes.hpp"

#include "kernel/http/route_helpers.hpp"
#include "kernel/services/webhook_service.hpp"

namespace nucleo::http {
namespace {

Json webhook_schema(bool creating) {
  Json patterns = {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}, {"maxItems", 50}};
  Json properties = {{"url", {{"type", "string"}, {"format", "uri"}, {"maxLength", 2000}}},
                     {"events", patterns},
                     {"description", {{"type", {"string", "null"}}, {"maxLength", 500}}}};
  if (!creating) properties["status"] = {{"type", "string"}, {"enum", {"active", "disabled"}}};
  Json schema = {{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
  if (creating) schema["required"] = {"url", "events"};
  return schema;
}

// A webhook as answered; `with_secret` on creation and rotation, the only answers
// that carry the signing secret.
Json webhook_answer_schema(bool with_secret) {
  Json text = {{"type", "string"}};
  Json properties = {{"id", {{"type", "string"}, {"pattern", "^whk_[0-9a-z]{26}$"}}},
                     {"tenant_id", text},
                     {"url", text},
                     {"events", {{"type", "array"}, {"items", text}}},
                     {"description", {{"type", {"string", "null"}}}},
                     {"status", {{"type", "string"}, {"enum", {"active", "disabled"}}}},
                     {"version", {{"type", "integer"}}},
                     {"created_at", {{"type", "string"}, {"format", "date-time"}}},
                     {"updated_at", {{"type", "string"}, {"format", "date-time"}}}};
  Json required = {"id", "tenant_id", "url", "events", "description", "status", "version", "created_at", "updated_at"};
  if (with_secret) {
    properties["secret"] = {{"type", "string"},
                            {"pattern", "^whsec_"},
                            {"description", "the signing secret (Standard Webhooks); shown in this answer only"}};
    required.push_back("secret");
  }
  return {{"type", "object"}, {"properties", properties}, {"required", required}, {"additionalProperties", false}};
}

Json delivery_schema() {
  Json nullable_integer = {{"type", {"integer", "null"}}};
  return {{"type", "object"},
          {"required", {"event_id", "event_name", "attempt", "status_code", "error", "duration_ms", "attempted_at"}},
          {"properties",
           {{"event_id", {{"type", "string"}}},
            {"event_name", {{"type", "string"}}},
            {"attempt", {{"type", "integer"}}},
            {"status_code", nullable_integer},
            {"error", {{"type", {"string", "null"}}}},
            {"duration_ms", {{"type", "integer"}}},
            {"attempted_at", {{"type", "string"}, {"format", "date-time"}}}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_webhook_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                        const events::OutboundHttp* outbound) {
  auto service = [deps, outbound] { return services::WebhookService(deps, outbound); };
  router.add(answering(Route{"POST", "/v1/webhooks", "create_webhook",
              "Subscribe a URL to domain events (admin). The answer holds the signing secret, shown only once",
              AuthMode::bearer, "", "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().create(req.ctx, req.json()), 201); },
              webhook_schema(true)}, 201, webhook_answer_schema(true)), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering({"GET", "/v1/webhooks", "list_webhooks", "The tenant's webhooks (admin)", AuthMode::bearer, "",
              "webhooks", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(service().list(req.ctx));
                return r;
              }}, 200, list_schema(webhook_answer_schema(false))), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering({"GET", "/v1/webhooks/{id}", "get_webhook", "One webhook, without its secret (admin)", AuthMode::bearer,
              "", "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().get(req.ctx, req.params.at("id"))); }},
                       200, webhook_answer_schema(false)), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering(honouring_if_match({"PATCH", "/v1/webhooks/{id}", "update_webhook",
              "Change a webhook's url, events, description or status (active, disabled; If-Match: version; admin)",
              AuthMode::bearer, "", "webhooks", {},
              [=](ApiRequest& req) {
                return record_response(
                    service().update(req.ctx, req.params.at("id"), req.json(), expected_version(req)));
              },
              webhook_schema(false)}), 200, webhook_answer_schema(false)), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering({"DELETE", "/v1/webhooks/{id}", "delete_webhook", "Delete a webhook and its delivery log (admin)",
              AuthMode::bearer, "", "webhooks", {}, [=](ApiRequest& req) {
                service().remove(req.ctx, req.params.at("id"));
                ApiResponse r;
                r.body = {{"id", req.params.at("id")}, {"deleted", true}};
                return r;
              }}, 200, deleted_schema()), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering({"POST", "/v1/webhooks/{id}/rotate-secret", "rotate_webhook_secret",
              "Replace a webhook's signing secret; the new one is in this answer only (admin)", AuthMode::bearer, "",
              "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().rotate_secret(req.ctx, req.params.at("id"))); }},
                       200, webhook_answer_schema(true)), Access::of_roles({"admin"}, "webhooks:write"));
  router.add(answering({"GET", "/v1/webhooks/{id}/deliveries", "list_webhook_deliveries",
              "A webhook's delivery attempts, newest first: event, attempt, HTTP status, error, duration (admin)",
              AuthMode::bearer, "", "webhooks", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] =
                    array_of(service().deliveries(req.ctx, req.params.at("id"), page_size(req, settings)));
                return r;
              }}, 200, list_schema(delivery_schema())), Access::of_roles({"admin"}, "webhooks:write"));
}

}  // namespace nucleo::http
