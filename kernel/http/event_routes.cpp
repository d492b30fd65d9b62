// Dead letters of the event dispatcher: listed and replayed by the admin (docs/api.md).
#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/event_service.hpp"

namespace nucleo::http {

namespace {

Json dead_letter_schema() {
  Json text = {{"type", "string"}};
  return {{"type", "object"},
          {"required", {"event_id", "event_name", "subscriber", "attempts", "last_error", "dead_at"}},
          {"properties",
           {{"event_id", text},
            {"event_name", text},
            {"subscriber", text},
            {"attempts", {{"type", "integer"}}},
            {"last_error", text},
            {"dead_at", {{"type", "string"}, {"format", "date-time"}}}}},
          {"additionalProperties", false}};
}

Json replay_schema() {
  return {{"type", "object"},
          {"required", {"event_id", "replayed"}},
          {"properties",
           {{"event_id", {{"type", "string"}}},
            {"replayed", {{"type", "integer"}, {"minimum", 0}, {"description", "subscribers it goes to again"}}}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_event_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add(answering({"GET", "/v1/events/dead", "list_dead_letters",
              "Event deliveries that failed events.max_attempts times, newest first (admin)", AuthMode::bearer, "",
              "audit", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::EventService(deps).dead_letters(req.ctx, page_size(req, settings)));
                return r;
              }}, 200, list_schema(dead_letter_schema())), Access::of_roles({"admin"}, "events:write"));
  router.add(answering({"POST", "/v1/events/dead/{id}/replay", "replay_dead_letter",
              "Deliver a dead-lettered event again, to one subscriber (?subscriber=) or to each that gave up (admin)",
              AuthMode::bearer, "", "audit", {"subscriber"}, [=](ApiRequest& req) {
                auto subscriber = req.query.count("subscriber") ? req.query.at("subscriber") : "";
                ApiResponse r;
                r.body = {{"event_id", req.params.at("id")},
                          {"replayed", services::EventService(deps).replay(req.ctx, req.params.at("id"), subscriber)}};
                return r;
              }}, 200, replay_schema()), Access::of_roles({"admin"}, "events:write"));
}

}  // namespace nucleo::http
