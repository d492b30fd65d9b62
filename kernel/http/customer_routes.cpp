// The customer 360 and the briefing of an account (docs/api.md): reads across entities,
// each record held to what the caller may see.
#include "kernel/domain/error.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/request_checks.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/customer_view.hpp"

namespace nucleo::http {

void add_customer_view_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  router.add({"GET",
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
              }}, access_to_read(entity_spec("account")));
  router.add({"GET",
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
              }}, access_to_read(entity_spec("account")));
}

}  // namespace nucleo::http
