// The customer 360 and the briefing of an account (docs/api.md): reads across entities,
// each record held to what the caller may see.
#include "kernel/domain/error.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/customer_view.hpp"

namespace nucleo::http {
namespace {

Json list_of_objects(const std::string& description) {
  return {{"type", "array"},
          {"description", description},
          {"items", {{"type", "object"}, {"additionalProperties", true}}}};
}

Json timeline_schema() {
  Json item = {{"type", "object"},
               {"required", {"kind", "at", "id", "data"}},
               {"properties",
                {{"kind",
                  {{"type", "string"},
                   {"description", "interaction, stage_change, task, or a plugin's <plugin id>.<collection>"}}},
                 {"at", {{"type", "string"}, {"format", "date-time"}}},
                 {"id", {{"type", "string"}}},
                 {"data",
                  {{"type", {"object", "null"}},
                   {"additionalProperties", true},
                   {"description", "the record; null when it is no longer there for the caller"}}}}},
               {"additionalProperties", false}};
  return page_schema(item);
}

Json briefing_schema() {
  Json risk = {{"type", "object"},
               {"required", {"kind", "reason"}},
               {"properties",
                {{"kind", {{"type", "string"}, {"description", "stalled_stage, no_activity or overdue_follow_ups"}}},
                 {"reason", {{"type", "string"}}},
                 {"deal_id", {{"type", "string"}}}}},
               {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"account", "generated_at", "open_deals", "last_interaction_by_channel", "open_tasks",
                        "overdue_tasks", "contacts", "risk_flags", "sections"}},
          {"properties",
           {{"account", {{"type", "object"}, {"additionalProperties", true}}},
            {"generated_at", {{"type", "string"}, {"format", "date-time"}}},
            {"open_deals", list_of_objects("open deals with their stage and days in it")},
            {"last_interaction_by_channel",
             {{"type", "object"},
              {"additionalProperties", {{"type", "object"}, {"additionalProperties", true}}},
              {"description", "by channel"}}},
            {"open_tasks", list_of_objects("open tasks")},
            {"overdue_tasks", list_of_objects("open tasks past due")},
            {"contacts", list_of_objects("the account's contacts with their roles in open deals")},
            {"risk_flags", {{"type", "array"}, {"items", risk}}},
            {"sections",
             {{"type", "object"},
              {"description", "plugins' sections, keyed <plugin id>.<name>: the data, or the error that left it out"},
              {"additionalProperties",
               {{"type", "object"},
                {"required", {"title"}},
                {"properties", {{"title", {{"type", "string"}}}, {"data", Json::object()}, {"error", {{"type", "string"}}}}},
                {"additionalProperties", false}}}}}}},
          {"additionalProperties", false}};
}

}  // namespace

void add_customer_view_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add(answering({"GET",
              "/v1/accounts/{id}/timeline",
              "account_timeline",
              "Interactions, stage changes and tasks of an account, newest first",
              AuthMode::bearer,
              "account",
              "timeline",
              {"limit", "cursor"},
              [=](ApiRequest& req) {
                std::string id = req.params.at("id");
                std::string scope = "timeline/" + id;
                Json after;
                if (req.query.count("cursor"))
                  after =
                      Json::parse(decode_cursor(scope, req.query.at("cursor"), settings.cursor_secret), nullptr, false);
                auto page = services::CustomerView(deps).timeline(req.ctx, id, after, page_size(req, settings));
                ApiResponse r;
                r.body = {{"data", page.items},
                          {"next_cursor", page.next.is_null()
                                              ? Json()
                                              : Json(encode_cursor(scope, page.next.dump(), settings.cursor_secret))}};
                return r;
              }}, 200, timeline_schema()), access_to_read(entity_spec("account")));
  router.add(answering({"GET",
              "/v1/accounts/{id}/briefing",
              "account_briefing",
              "Before a visit: open deals, last contact per channel, tasks, key contacts, risk flags",
              AuthMode::bearer,
              "account",
              "briefing",
              {"quiet_days"},
              [=](ApiRequest& req) {
                int quiet_days = static_cast<int>(integer_parameter(req, "quiet_days", 1, 3650).value_or(30));
                ApiResponse r;
                r.body = services::CustomerView(deps).briefing(req.ctx, req.params.at("id"), quiet_days);
                return r;
              }}, 200, briefing_schema()), access_to_read(entity_spec("account")));
}

}  // namespace nucleo::http
