// Dead letters of the event dispatcher: listed and replayed by the admin (docs/api.md).
#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/event_service.hpp"

namespace nucleo::http {

void add_event_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add({"GET", "/v1/events/dead", "list_dead_letters",
              "Event deliveries that failed events.max_attempts times, newest first (admin)", AuthMode::bearer, "",
              "audit", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(services::EventService(deps).dead_letters(req.ctx, page_size(req, settings)));
                return r;
              }}, Access::of_roles({"admin"}, "events:write"));
  router.add({"POST", "/v1/events/dead/{id}/replay", "replay_dead_letter",
              "Deliver a dead-lettered event again, to one subscriber (?subscriber=) or to each that gave up (admin)",
              AuthMode::bearer, "", "audit", {"subscriber"}, [=](ApiRequest& req) {
                auto subscriber = req.query.count("subscriber") ? req.query.at("subscriber") : "";
                ApiResponse r;
                r.body = {{"event_id", req.params.at("id")},
                          {"replayed", services::EventService(deps).replay(req.ctx, req.params.at("id"), subscriber)}};
                return r;
              }}, Access::of_roles({"admin"}, "events:write"));
}

}  // namespace nucleo::http
