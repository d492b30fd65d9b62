// Issue #17: every route declares who may call it, and the server does what it says.
// The test reads the declarations from the published OpenAPI document (x-nucleo-access,
// generated from the router table: core, channel and plugin routes alike) and calls
// every operation as every role and as integration keys with representative scopes,
// also On-Behalf-Of: a caller the declaration leaves out gets 403, one it lets in never
// does (for core routes; a plugin's own rules and the kernel calls it makes may still
// refuse a caller its route lets in).
#include <Poco/String.h>

#include <fstream>
#include <regex>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

struct Caller {
  std::string name;
  std::string key;
  std::string role;  // the role the call acts with (the user's, On-Behalf-Of)
  std::vector<std::string> scopes;
  bool scopes_apply = false;
  std::string on_behalf_of;
};

// docs/api.md, "Roles and permissions": the scope grammar, written down independently.
bool grants(const std::vector<std::string>& scopes, const std::string& needed) {
  auto colon = needed.find(':');
  std::string resource = needed.substr(0, colon), access = needed.substr(colon + 1);
  for (const auto& s : scopes) {
    if (s == "*") return true;
    auto c = s.find(':');
    std::string r = s.substr(0, c), a = s.substr(c + 1);
    if ((r == resource || r == "*") && (a == access || (a == "write" && access == "read"))) return true;
  }
  return false;
}

class Authorization : public ApiFixture {
 protected:
  void SetUp() override {
    std::string store = store_plugin_folder(plugin_dir.path());
    // The insight plugin too (issue #33): its routes train, backtest and read models.
    std::ofstream(plugin_dir.path() + "/nucleo.properties") << "plugins.store.file = " << store << "\n"
                                                            << "plugins.insight.file = " << INSIGHT_PLUGIN_DIR << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_LIMITS_RATE_PER_SECOND", "100000"}, {"NUCLEO_LIMITS_RATE_BURST", "100000"}};
  }

  std::vector<Caller> callers() {
    std::vector<Caller> all{{"admin", admin, "admin"}, {"auditor", auditor, "auditor"}, {"manager", manager, "manager"}};
    for (const std::string role : {"sales", "support", "marketing"}) all.push_back({role, user_key(h->tenant, role), role});
    for (const Json& scopes : {Json{"*"}, Json{"deals:read"}, Json{"*:read"}, Json{"org.nucleo.fixtures.store:write"}}) {
      Caller c{"integration " + scopes.dump(), integration_key(h->tenant, scopes), "integration"};
      c.scopes = scopes.get<std::vector<std::string>>();
      c.scopes_apply = true;
      all.push_back(c);
    }
    std::string boss;
    user_key(h->tenant, "admin", &boss);
    Caller obo{"integration [deals:read] On-Behalf-Of an admin", integration_key(h->tenant, {"deals:read"}), "admin",
               {"deals:read"}, true, boss};
    all.push_back(obo);
    return all;
  }

  static bool allowed(const Caller& c, const Json& access) {
    std::vector<std::string> roles = access["roles"];
    if (std::find(roles.begin(), roles.end(), c.role) == roles.end()) return false;
    return !c.scopes_apply || grants(c.scopes, access["scope"]);
  }

  TempDir plugin_dir;
};

TEST_P(Authorization, EveryRouteAnswersAsItsDeclarationSays) {
  Json document = call("GET", "/v1/openapi.json", "").body;
  ASSERT_TRUE(document.contains("paths"));
  std::vector<Caller> everyone = callers();
  std::size_t operations = 0, plugin_operations = 0, calls = 0;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      ASSERT_TRUE(op.contains("x-nucleo-access")) << method << " " << path << " declares no access";
      const Json& access = op["x-nucleo-access"];
      ++operations;
      bool plugin_route = path.rfind("/v1/x/", 0) == 0;
      plugin_operations += plugin_route;
      if (access.value("anyone", false)) {
        EXPECT_TRUE(op.contains("security") && op["security"].empty()) << path;
        continue;
      }
      ASSERT_FALSE(access["roles"].empty()) << path;
      ASSERT_NE(access["scope"].get<std::string>().find(':'), std::string::npos) << path;
      std::string target = std::regex_replace(path, std::regex(R"(\{type\})"), "account");
      target = std::regex_replace(target, std::regex(R"(\{[a-z_]+\})"), "none_01m8xg3p4eesbre64jj63pb3pc");
      std::string verb = Poco::toUpper(method);
      for (const auto& c : everyone) {
        std::map<std::string, std::string> headers;
        if (!c.on_behalf_of.empty()) headers["On-Behalf-Of"] = c.on_behalf_of;
        bool has_body = verb == "POST" || verb == "PATCH" || verb == "PUT";
        auto r = call_raw(verb, target, c.key, has_body ? "{}" : "", headers);
        ++calls;
        if (!allowed(c, access)) {
          EXPECT_EQ(r.status, 403) << c.name << " " << verb << " " << path << " → " << r.raw.body;
          // Issue #26: authorisation comes before the request is looked at — a broken
          // body, an unknown or malformed query parameter still get the 403.
          auto hostile = call_raw(verb, target + "?limit=abc&unknown_parameter=1", c.key, "{\"broken\":", headers);
          ++calls;
          EXPECT_EQ(hostile.status, 403) << c.name << " " << verb << " " << path << " → " << hostile.raw.body;
        } else if (!plugin_route) {
          EXPECT_NE(r.status, 403) << c.name << " " << verb << " " << path << " → " << r.raw.body;
        }
        EXPECT_LT(r.status, 500) << c.name << " " << verb << " " << path << " → " << r.raw.body;
      }
    }
  }
  EXPECT_GE(operations, 112u);
  EXPECT_GE(plugin_operations, 5u + 9u);  // the store fixture's bearer routes, insight's
  RecordProperty("calls", static_cast<int>(calls));
}

// The probe's findings, one by one: scopes are not dropped by On-Behalf-Of, channel
// messages need a channel scope, auditors write nothing through a plugin.
TEST_P(Authorization, TheProbesEscalationsAreClosed) {
  std::string boss;
  user_key(h->tenant, "admin", &boss);
  std::string reader = integration_key(h->tenant, {"deals:read"});
  std::map<std::string, std::string> as_boss{{"On-Behalf-Of", boss}};
  EXPECT_EQ(call("GET", "/v1/deals", reader, nullptr, as_boss).status, 200);
  EXPECT_EQ(call("POST", "/v1/users", reader, {{"name", "X"}, {"email", "x@x.com"}, {"role", "admin"}}, as_boss).status,
            403);
  EXPECT_EQ(call("GET", "/v1/audit/export?format=jsonl", reader, nullptr, as_boss).status, 403);
  EXPECT_EQ(call("POST", "/v1/channels/accounts/chn_none/messages", reader, {{"to", "+5511999990000"}, {"content", "x"}})
                .status,
            403);
  EXPECT_EQ(call("GET", "/v1/channels/messages/msg_none", reader).status, 403);
  // An auditor reads plugin records and writes none.
  ASSERT_EQ(call("PUT", "/v1/x/org.nucleo.fixtures.store/visits/v1", admin, {{"day", "2026-11-01"}, {"minutes", 30}}).status,
            200);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v1", auditor).status, 200);
  EXPECT_EQ(call("PUT", "/v1/x/org.nucleo.fixtures.store/visits/v2", auditor, {{"day", "2026-11-02"}}).status, 403);
  EXPECT_EQ(call("DELETE", "/v1/x/org.nucleo.fixtures.store/visits/v1", auditor).status, 403);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v1", admin).status, 200);
}

// The outside probe's bad-input corpus, kept as a regression test: every operation of
// the router (core, channel, plugin), as an admin, with malformed path ids, query
// strings, bodies and recorded headers. Each must be a 4xx problem, never a 5xx.
TEST_P(Authorization, HostileInputGetsA4xxOnEveryRoute) {
  Json document = call("GET", "/v1/openapi.json", "").body;
  const std::vector<std::string> ids{"%FF%FE", "%00", "..%2F..%2Fetc", std::string(300, 'z'), "acc_%C3%28"};
  const std::vector<std::string> queries{"limit=%FF", "x=%00", "limit=5x", "cursor=garbage", "quiet_days=5x",
                                         "actor=%FF%FE", "limit=1&limit=2", "%ZZ"};
  const std::vector<std::string> bodies{R"({"attributes":{"n":1e999999}})", "{\"legal_name\":\"a\\u0000b\"}",
                                        R"({"name":"a","name":"b"})", "[", "\"\xff\"",
                                        std::string(200, '[') + std::string(200, ']'), R"({"n":-1e400})",
                                        "{\"k\\u0000\":1}", "\xef\xbb\xbf{}"};
  const std::vector<std::map<std::string, std::string>> headers{{{"X-Reason", "caf\xe9"}},
                                                                {{"Idempotency-Key", "\xff\xfe"}},
                                                                {{"On-Behalf-Of", "usr_\xff"}},
                                                                {{"If-Match", "\"\xff\""}},
                                                                {{"X-Request-Id", "\x01\x02"}}};
  std::size_t sent = 0;
  auto expect_4xx = [&](const std::string& verb, const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& extra) {
    auto r = call_raw(verb, target, admin, body, extra);
    ++sent;
    EXPECT_LT(r.status, 500) << verb << " " << target << " body " << body.substr(0, 60) << " → " << r.raw.body;
    EXPECT_GE(r.status, 200) << verb << " " << target;
  };
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string verb = Poco::toUpper(method);
      bool has_body = verb == "POST" || verb == "PATCH" || verb == "PUT";
      std::string plain = std::regex_replace(path, std::regex(R"(\{type\})"), "account");
      plain = std::regex_replace(plain, std::regex(R"(\{[a-z_]+\})"), "none_01m8xg3p4eesbre64jj63pb3pc");
      if (path.find('{') != std::string::npos)
        for (const auto& id : ids)
          expect_4xx(verb, std::regex_replace(path, std::regex(R"(\{[a-z_]+\})"), id), has_body ? "{}" : "", {});
      for (const auto& q : queries) expect_4xx(verb, plain + "?" + q, has_body ? "{}" : "", {});
      if (has_body)
        for (const auto& b : bodies) expect_4xx(verb, plain, b, {});
      for (const auto& h : headers) expect_4xx(verb, plain, has_body ? "{}" : "", h);
    }
  }
  EXPECT_GT(sent, 1000u);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, Authorization, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::test
