// Failed background work, for the admin (docs/api.md): the event dispatcher's dead
// letters (listed, replayed) and jobs whose last run failed (listed, retried, discarded).
#include "kernel/domain/error.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/event_service.hpp"
#include "kernel/services/job_service.hpp"

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

Json job_schema() {
  Json text = {{"type", "string"}}, nullable_text = {{"type", {"string", "null"}}};
  Json instant = {{"type", "string"}, {"format", "date-time"}};
  Json nullable_instant = {{"type", {"string", "null"}}, {"format", "date-time"}};
  return {{"type", "object"},
          {"required", {"id", "name", "plugin_id", "state", "attempts", "last_error", "last_run_at", "dead_at", "run_at",
                        "created_at"}},
          {"properties",
           {{"id", text},
            {"name", {{"type", "string"}, {"description", "plugin:<plugin id>:<job name>"}}},
            {"plugin_id", nullable_text},
            {"state", {{"type", "string"}, {"enum", {"failing", "dead"}}}},
            {"attempts", {{"type", "integer"}, {"minimum", 0}}},
            {"last_error", text},
            {"last_run_at", nullable_instant},
            {"dead_at", nullable_instant},
            {"run_at", instant},
            {"created_at", instant}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_job_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add(answering({"GET", "/v1/jobs", "list_failed_jobs",
                        "Jobs whose last run failed, newest first: state=failing (they run again) or dead (one-off "
                        "jobs out of attempts); plugin= narrows to one plugin (admin)",
                        AuthMode::bearer, "", "jobs", {"state", "plugin", "limit"},
                        [=](ApiRequest& req) {
                          auto text = [&](const char* name) { return req.query.count(name) ? req.query.at(name) : ""; };
                          ApiResponse r;
                          r.body["data"] = array_of(services::JobService(deps).failed(
                              req.ctx, text("state"), text("plugin"), page_size(req, settings)));
                          return r;
                        }},
                       200, list_schema(job_schema())),
             Access::of_roles({"admin"}, "jobs:read"));
  router.add(answering({"POST", "/v1/jobs/{id}/retry", "retry_job", "Run a dead job again now (admin)",
                        AuthMode::bearer, "", "jobs", {},
                        [=](ApiRequest& req) {
                          ApiResponse r;
                          r.body = services::JobService(deps).retry(req.ctx, req.params.at("id"));
                          return r;
                        }},
                       200, job_schema()),
             Access::of_roles({"admin"}, "jobs:write"));
  router.add(answering({"DELETE", "/v1/jobs/{id}", "discard_job", "Discard a dead job (admin)", AuthMode::bearer, "",
                        "jobs", {},
                        [=](ApiRequest& req) {
                          services::JobService(deps).discard(req.ctx, req.params.at("id"));
                          ApiResponse r;
                          r.body = {{"id", req.params.at("id")}, {"deleted", true}};
                          return r;
                        }},
                       200, deleted_schema()),
             Access::of_roles({"admin"}, "jobs:write"));
}

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
