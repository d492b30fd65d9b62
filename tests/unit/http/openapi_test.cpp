// The OpenAPI document's shapes (docs/api.md, "The API contract"; ADR 0021): what a
// generated client is typed from. The end-to-end contract check holds real exchanges to
// the document; these pin the rules that make it exact.
#include "kernel/http/openapi.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace nucleo::http {
namespace {

Route route(std::string method, std::string path, std::string entity, std::string kind) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.operation_id = r.method + "_" + kind;
  r.summary = kind;
  r.entity_type = std::move(entity);
  r.kind = std::move(kind);
  r.handler = [](ApiRequest&) { return ApiResponse{}; };
  return r;
}

Json accounts_document() {
  Router router;
  Access change = Access::of_roles({"admin"}, "accounts:write");
  router.add(answering(route("POST", "/v1/accounts", "account", "create"), 201), change);
  router.add(route("PATCH", "/v1/accounts/{id}", "account", "update"), change);
  router.add(route("POST", "/v1/accounts/batch", "account", "batch"), change);
  router.add(route("GET", "/v1/audit/checkpoint", "", "checkpoint"), Access::of_roles({"admin"}, "audit:read"));
  return openapi_document(router);
}

TEST(OpenApi, ANullableEnumListsNull) {
  Json doc = accounts_document();
  const Json& lifecycle = doc["components"]["schemas"]["Account"]["properties"]["lifecycle"];
  EXPECT_EQ(lifecycle["type"], (Json{"string", "null"}));
  EXPECT_EQ(lifecycle["enum"].back(), nullptr);
}

TEST(OpenApi, APatchRequiresNothingAndACreateItsRequiredFields) {
  Json doc = accounts_document();
  const Json& schemas = doc["components"]["schemas"];
  EXPECT_FALSE(schemas["AccountPatch"].contains("required"));
  EXPECT_EQ(schemas["AccountCreate"]["required"], (Json{"legal_name"}));
  // Server-set fields are not writable; the answer has every field.
  EXPECT_FALSE(schemas["AccountCreate"]["properties"].contains("tax_id_kind"));
  EXPECT_FALSE(schemas["AccountCreate"]["properties"].contains("id"));
  for (const char* f : {"id", "version", "tax_id_kind", "attributes"})
    EXPECT_NE(std::find(schemas["Account"]["required"].begin(), schemas["Account"]["required"].end(), f),
              schemas["Account"]["required"].end())
        << f;
  EXPECT_TRUE(schemas["Account"]["properties"].contains("duplicates"));
  EXPECT_EQ(schemas["Account"]["properties"]["address"]["additionalProperties"], true);
}

TEST(OpenApi, EveryOperationDeclaresItsProblemsHeadersAndTag) {
  Json doc = accounts_document();
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      EXPECT_EQ(op["tags"].size(), 1u) << method << " " << path;
      for (const char* status : {"400", "413", "500", "503"}) EXPECT_TRUE(op["responses"].contains(status)) << path;
      if (path.rfind("/v1/", 0) != 0) continue;
      for (const char* status : {"401", "403", "415", "422", "429"})
        EXPECT_TRUE(op["responses"].contains(status)) << method << " " << path << " " << status;
    }
  }
  const Json& create = doc["paths"]["/v1/accounts"]["post"];
  EXPECT_TRUE(create["responses"].contains("410"));  // an erased Idempotency-Key replay
  EXPECT_EQ(create["responses"]["201"]["headers"]["Location"]["$ref"], "#/components/headers/Location");
  const Json& patch = doc["paths"]["/v1/accounts/{id}"]["patch"];
  EXPECT_TRUE(patch["responses"].contains("412"));
  bool if_match = false;
  for (const auto& p : patch["parameters"]) if_match = if_match || p["name"] == "If-Match";
  EXPECT_TRUE(if_match);
  EXPECT_TRUE(doc["paths"]["/v1/accounts/batch"]["post"].contains("requestBody"));
  EXPECT_EQ(doc["paths"]["/v1/audit/checkpoint"]["get"]["tags"], (Json{"audit"}));
  EXPECT_TRUE(doc["paths"].contains("/healthz") && doc["paths"].contains("/metrics"));
  EXPECT_EQ(doc["servers"][0]["variables"]["host"]["default"], "localhost:8080");
}

TEST(OpenApi, EveryArrayHasItems) {
  Json doc = accounts_document();
  std::function<void(const Json&, const std::string&)> visit = [&](const Json& node, const std::string& at) {
    if (node.is_object()) {
      bool array = node.value("type", Json()) == "array" ||
                   (node.value("type", Json()).is_array() && node["type"][0] == "array");
      EXPECT_TRUE(!array || node.contains("items")) << at;
      for (const auto& [k, v] : node.items()) visit(v, at + "/" + k);
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) visit(node[i], at + "/" + std::to_string(i));
    }
  };
  visit(doc, "");
}

}  // namespace
}  // namespace nucleo::http
