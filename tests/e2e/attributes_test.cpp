// Issue #9, attribute schemas end to end: a plugin declares namespaced attributes on
// accounts; a running server checks every account write against them (422 naming each
// attribute, nothing written), shows them in the OpenAPI document, and searches them —
// numbers as numbers.
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;

class AttributeSchemas : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder = plugin_folder(
        plugin_dir.path(), "attributes", "attributes",
        {{"id", "org.nucleo.fixtures.attributes"}, {"kind", "vertical"}, {"config_schema", Json::object()}});
    std::ofstream(plugin_dir.path() + "/nucleo.properties")
        << "plugins.attributes.file = " << folder << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    std::vector<std::string> args{"--config", plugin_dir.path() + "/nucleo.properties"};
    if (safe_mode) args.push_back("--safe-mode");
    return args;
  }
  bool safe_mode = false;
  Reply account(const std::string& name, const Json& attributes) {
    return call("POST", "/v1/accounts", admin, {{"legal_name", name}, {"attributes", attributes}});
  }
  static std::map<std::string, std::string> errors(const Reply& r) {
    std::map<std::string, std::string> out;
    for (const auto& e : r.body["errors"]) out[e["field"]] = e["message"];
    return out;
  }
  TempDir plugin_dir;
};

TEST_P(AttributeSchemas, EveryWriteIsCheckedAgainstTheDeclaredAttributes) {
  auto missing = account("Acme", Json::object());
  EXPECT_EQ(missing.status, 422) << missing.raw.body;
  EXPECT_NE(errors(missing)["attributes.finance.segment"].find("is required"), std::string::npos) << missing.raw.body;

  auto bad = account("Acme", {{"finance.segment", "agro"},
                              {"finance.credit_limit", -5},
                              {"finance.rating", "Z"},
                              {"finance.parent_cnpj", "11.222.333/0001-00"},
                              {"finance.owner_cpf", "111.111.111-11"},
                              {"finance.desk_phone", "12"},
                              {"finance.desk_email", "not-an-email"},
                              {"finance.reviewed_on", "2026-02-30"},
                              {"finance.exempt", "yes"}});
  ASSERT_EQ(bad.status, 422) << bad.raw.body;
  auto e = errors(bad);
  EXPECT_EQ(e.size(), 9u) << bad.raw.body;
  EXPECT_NE(e["attributes.finance.segment"].find("must match"), std::string::npos);
  EXPECT_EQ(e["attributes.finance.credit_limit"], "must be at least 0");
  EXPECT_NE(e["attributes.finance.rating"].find("one of"), std::string::npos);
  EXPECT_EQ(e["attributes.finance.parent_cnpj"], "must be a valid cnpj");
  EXPECT_EQ(e["attributes.finance.owner_cpf"], "must be a valid cpf");
  EXPECT_NE(e["attributes.finance.desk_phone"].find("valid phone"), std::string::npos);
  EXPECT_EQ(e["attributes.finance.desk_email"], "must be a valid email");
  EXPECT_EQ(e["attributes.finance.reviewed_on"], "must be a valid date");
  EXPECT_EQ(e["attributes.finance.exempt"], "must be a boolean");
  EXPECT_TRUE(call("GET", "/v1/accounts", admin).body["data"].empty());  // nothing written

  auto good = account("Acme", {{"finance.segment", "AG"},
                               {"finance.credit_limit", 9000},
                               {"finance.parent_cnpj", "11.222.333/0001-81"},
                               {"finance.desk_phone", "+55 11 3456-7890"},
                               {"finance.reviewed_on", "2026-11-20"},
                               {"other.note", "undeclared keys pass"}});
  ASSERT_EQ(good.status, 201) << good.raw.body;
  std::string id = good.body["id"];
  auto raised = call("PATCH", "/v1/accounts/" + id, admin, {{"attributes", {{"finance.credit_limit", 2000000}}}});
  EXPECT_EQ(raised.status, 422);  // updates too
  auto removed = call("PATCH", "/v1/accounts/" + id, admin, {{"attributes", {{"finance.segment", nullptr}}}});
  EXPECT_EQ(removed.status, 422);  // a required attribute cannot be dropped
  EXPECT_EQ(call("GET", "/v1/accounts/" + id, admin).body["attributes"]["finance.credit_limit"], 9000);

  // Searchable: a number compares as a number (as text "9000" > "50000").
  ASSERT_EQ(account("Big", {{"finance.segment", "AG"}, {"finance.credit_limit", 100000}}).status, 201);
  auto search = [&](const Json& filter) {
    auto r = call("POST", "/v1/accounts/search", admin, {{"filter_groups", {{{"filters", {filter}}}}}});
    EXPECT_EQ(r.status, 200) << r.raw.body;
    std::vector<std::string> names;
    for (const auto& a : r.body["data"]) names.push_back(a["legal_name"]);
    return names;
  };
  EXPECT_EQ(search({{"field", "attributes.finance.credit_limit"}, {"op", "gte"}, {"value", 50000}}),
            (std::vector<std::string>{"Big"}));
  EXPECT_EQ(search({{"field", "attributes.finance.credit_limit"}, {"op", "lt"}, {"value", 50000}}),
            (std::vector<std::string>{"Acme"}));
  EXPECT_EQ(search({{"field", "attributes.finance.segment"}, {"op", "eq"}, {"value", "AG"}}).size(), 2u);

  // Shown in the OpenAPI document.
  auto doc = call("GET", "/v1/openapi.json", "");
  const Json& attributes = doc.body["components"]["schemas"]["Account"]["properties"]["attributes"];
  EXPECT_EQ(attributes["properties"]["finance.credit_limit"]["maximum"], 1000000) << attributes;
  EXPECT_EQ(attributes["properties"]["finance.parent_cnpj"]["format"], "cnpj");
  EXPECT_EQ(attributes["required"], Json({"finance.segment"}));
}

// Issue #20: a plugin that is not loaded (safe mode here; a failed load alike) leaves
// its attributes checked with the schemas it last declared, instead of letting anything in.
TEST_P(AttributeSchemas, AnUnloadedPluginsAttributesStayEnforced) {
  server->signal(SIGTERM);
  ASSERT_EQ(server->wait(std::chrono::seconds(30)).exit_code, 0);
  safe_mode = true;
  start_server();
  auto plugins = call("GET", "/v1/plugins", admin);
  ASSERT_EQ(plugins.body["data"][0]["loaded"], false) << plugins.raw.body;

  auto missing = account("Acme", Json::object());
  EXPECT_EQ(missing.status, 422) << missing.raw.body;
  EXPECT_NE(errors(missing)["attributes.finance.segment"].find("is required"), std::string::npos) << missing.raw.body;
  auto bad = account("Acme", {{"finance.segment", "AG"}, {"finance.credit_limit", -5}});
  EXPECT_EQ(errors(bad)["attributes.finance.credit_limit"], "must be at least 0") << bad.raw.body;
  EXPECT_EQ(account("Acme", {{"finance.segment", "AG"}, {"finance.credit_limit", 5}}).status, 201);
  EXPECT_NE(server->stderr_so_far().find("org.nucleo.fixtures.attributes is not loaded: the account attributes it "
                                         "declared (version 1.0.0) stay enforced"),
            std::string::npos)
      << server->stderr_so_far();
}

INSTANTIATE_TEST_SUITE_P(Backends, AttributeSchemas,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
