// Duplicates (docs/api.md, "Finding duplicates" and "Merging duplicates"): the candidate
// pairs of a tenant, and folding records into the one that survives.
#include <cmath>

#include "kernel/http/cursor.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/duplicate_finder.hpp"
#include "kernel/services/merge_service.hpp"

namespace nucleo::http {
namespace {

Json merge_request_schema(const EntitySpec& spec) {
  Json id = {{"type", "string"}, {"pattern", "^" + spec.prefix + "_[0-9a-z]{26}$"}};
  return {{"type", "object"},
          {"required", {"from"}},
          {"properties",
           {{"from", {{"type", "array"},
                      {"minItems", 1},
                      {"maxItems", services::MergeService::max_merged},
                      {"uniqueItems", true},
                      {"items", id},
                      {"description", "the records folded into this one: archived with merged_into"}}},
            {"fields", {{"type", "object"},
                        {"additionalProperties", id},
                        {"description", "field (or attributes.<key>) → the record whose value the survivor takes; "
                                        "unnamed fields keep the survivor's, or fill an empty one from the first "
                                        "merged record holding it"}}}}},
          {"additionalProperties", false}};
}

Json duplicate_pair_schema() {
  Json id = {{"type", "string"}};
  Json reason = {{"type", "object"},
                 {"required", {"kind"}},
                 {"properties",
                  {{"kind", {{"type", "string"}, {"enum", {"email", "phone", "tax_id_root", "name"}}}},
                   {"value", {{"type", "string"}, {"description", "the shared e-mail, phone or CNPJ root"}}},
                   {"score", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}, {"description", "name similarity"}}}}},
                 {"additionalProperties", false}};
  return {{"type", "object"},
          {"required", {"entity_type", "ids", "score", "reasons"}},
          {"properties",
           {{"entity_type", {{"type", "string"}, {"enum", {"contact", "account"}}}},
            {"ids", {{"type", "array"}, {"items", id}, {"minItems", 2}, {"maxItems", 2}}},
            {"score", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
            {"reasons", {{"type", "array"}, {"items", reason}, {"minItems", 1}}}}},
          {"additionalProperties", false}};
}

// ?min_score= in [0, 1].
std::optional<double> score_parameter(const ApiRequest& req, const std::string& name) {
  std::string text = text_parameter(req, name);
  if (text.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value) && value >= 0 && value <= 1) return value;
  } catch (const std::exception&) {
  }
  throw BadRequest(name + " must be a number from 0 to 1", {{name, "not a number from 0 to 1"}});
}

}  // namespace

void add_duplicate_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings) {
  for (const std::string type : {"contact", "account"}) {
    const EntitySpec& spec = entity_spec(type);
    router.add(honouring_if_match({"POST", "/v1/" + spec.table + "/{id}/merge", "merge_" + spec.table,
                                   "Fold duplicate " + spec.table + " into this one: their deals, interactions, tasks" +
                                       (type == "contact" ? ", conversations" : ", contacts") +
                                       " and attributes move here; they are archived with merged_into (admin, manager)",
                                   AuthMode::bearer, type, "action", {},
                                   [=](ApiRequest& req) {
                                     return write_response(services::MergeService(deps).merge(
                                         req.ctx, type, req.params.at("id"), req.json(), expected_version(req)));
                                   },
                                   merge_request_schema(spec)}),
               Access::of_roles({"admin", "manager", "integration"}, spec.table + ":write"));
  }
  router.add(answering({"GET", "/v1/duplicates", "list_duplicates",
                        "Candidate duplicate contacts or accounts, in pairs, with why (same e-mail, phone or CNPJ "
                        "root; names alike); identifiers first",
                        AuthMode::bearer, "", "duplicates", {"entity_type", "account_id", "min_score", "limit", "cursor"},
                        [=](ApiRequest& req) {
                          services::DuplicateQuery q;
                          q.entity_type = text_parameter(req, "entity_type");
                          if (q.entity_type.empty())
                            throw BadRequest("entity_type is required (contact or account)", {{"entity_type", "is required"}});
                          q.account_id = text_parameter(req, "account_id");
                          q.min_score = score_parameter(req, "min_score").value_or(q.min_score);
                          q.limit = page_size(req, settings);
                          std::string collection = "duplicates/" + q.entity_type;
                          if (req.query.count("cursor"))
                            q.after = decode_cursor(collection, req.query.at("cursor"), settings.cursor_secret);
                          auto page = services::DuplicateFinder(deps).find(req.ctx, q);
                          ApiResponse r;
                          r.body["data"] = std::move(page.items);
                          r.body["next_cursor"] = page.next.empty()
                                                      ? Json()
                                                      : Json(encode_cursor(collection, page.next, settings.cursor_secret));
                          return r;
                        }},
                       200, page_schema(duplicate_pair_schema())),
             Access::of_roles({"admin", "manager", "auditor", "integration"}, "duplicates:read"));
}

}  // namespace nucleo::http
