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

}  // namespace

void add_webhook_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                        const events::OutboundHttp* outbound) {
  auto service = [deps, outbound] { return services::WebhookService(deps, outbound); };
  router.add(answering(Route{"POST", "/v1/webhooks", "create_webhook",
              "Subscribe a URL to domain events (admin). The answer holds the signing secret, shown only once",
              AuthMode::bearer, "", "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().create(req.ctx, req.json()), 201); },
              webhook_schema(true)}, 201, nullptr), Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"GET", "/v1/webhooks", "list_webhooks", "The tenant's webhooks (admin)", AuthMode::bearer, "",
              "webhooks", {}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(service().list(req.ctx));
                return r;
              }}, Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"GET", "/v1/webhooks/{id}", "get_webhook", "One webhook, without its secret (admin)", AuthMode::bearer,
              "", "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().get(req.ctx, req.params.at("id"))); }}, Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"PATCH", "/v1/webhooks/{id}", "update_webhook",
              "Change a webhook's url, events, description or status (active, disabled; If-Match: version; admin)",
              AuthMode::bearer, "", "webhooks", {},
              [=](ApiRequest& req) {
                return record_response(
                    service().update(req.ctx, req.params.at("id"), req.json(), expected_version(req)));
              },
              webhook_schema(false)}, Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"DELETE", "/v1/webhooks/{id}", "delete_webhook", "Delete a webhook and its delivery log (admin)",
              AuthMode::bearer, "", "webhooks", {}, [=](ApiRequest& req) {
                service().remove(req.ctx, req.params.at("id"));
                ApiResponse r;
                r.body = {{"id", req.params.at("id")}, {"deleted", true}};
                return r;
              }}, Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"POST", "/v1/webhooks/{id}/rotate-secret", "rotate_webhook_secret",
              "Replace a webhook's signing secret; the new one is in this answer only (admin)", AuthMode::bearer, "",
              "webhooks", {},
              [=](ApiRequest& req) { return record_response(service().rotate_secret(req.ctx, req.params.at("id"))); }}, Access::of_roles({"admin"}, "webhooks:write"));
  router.add({"GET", "/v1/webhooks/{id}/deliveries", "list_webhook_deliveries",
              "A webhook's delivery attempts, newest first: event, attempt, HTTP status, error, duration (admin)",
              AuthMode::bearer, "", "webhooks", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] =
                    array_of(service().deliveries(req.ctx, req.params.at("id"), page_size(req, settings)));
                return r;
              }}, Access::of_roles({"admin"}, "webhooks:write"));
}

}  // namespace nucleo::http
