// Issue #9, the plugins' record store end to end: a plugin's collection declared in its
// manifest, written and range-queried through its routes in a running server, kept per
// tenant, refusing undeclared collections and unindexed queries, and audited.
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;

class RecordStore : public ApiFixture {
 protected:
  void SetUp() override {
    std::string folder = store_plugin_folder(plugin_dir.path());
    std::ofstream(plugin_dir.path() + "/nucleo.properties") << "plugins.store.file = " << folder << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    return {"--config", plugin_dir.path() + "/nucleo.properties"};
  }
  Reply put(const std::string& key, const std::string& id, const Json& document) {
    return call("PUT", "/v1/x/org.nucleo.fixtures.store/visits/" + id, key, document);
  }
  std::vector<std::string> ids(const std::string& key, const Json& query) {
    auto r = call("POST", "/v1/x/org.nucleo.fixtures.store/visits/query", key, query);
    EXPECT_EQ(r.status, 200) << query << " → " << r.raw.body;
    std::vector<std::string> out;
    for (const auto& d : r.body["data"]) out.push_back(d["id"]);
    return out;
  }
  TempDir plugin_dir;
};

TEST_P(RecordStore, DocumentsArePerTenantRangeQueriedAndAudited) {
  ASSERT_EQ(put(admin, "v1", {{"day", "2026-11-01"}, {"minutes", 30}, {"farm", "Santa Rita"}}).status, 200);
  ASSERT_EQ(put(admin, "v2", {{"day", "2026-11-10"}, {"minutes", 90}, {"farm", "Boa Vista"}}).status, 200);
  ASSERT_EQ(put(admin, "v3", {{"day", "2026-12-02"}, {"minutes", 45}}).status, 200);
  auto replaced = put(admin, "v1", {{"day", "2026-11-01"}, {"minutes", 35}, {"farm", "Santa Rita"}});
  ASSERT_EQ(replaced.status, 200) << replaced.raw.body;
  EXPECT_EQ(replaced.body["version"], 2);

  EXPECT_EQ(ids(admin, {{"where", {{"day", {{"gte", "2026-11-01"}, {"lt", "2026-12-01"}}}}}}),
            (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(ids(admin, {{"where", {{"minutes", {{"gt", 40}}}}}}), (std::vector<std::string>{"v2", "v3"}));
  EXPECT_EQ(ids(admin, {{"where", {{"minutes", {{"lte", 40}}}, {"day", {{"eq", "2026-11-01"}}}}}}),
            (std::vector<std::string>{"v1"}));
  auto page = call("POST", "/v1/x/org.nucleo.fixtures.store/visits/query", admin, {{"limit", 2}});
  ASSERT_EQ(page.body["data"].size(), 2u);
  EXPECT_EQ(ids(admin, {{"cursor", page.body["next_cursor"]}}), (std::vector<std::string>{"v3"}));

  auto read = call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v2", admin);
  EXPECT_EQ(read.body["document"]["farm"], "Boa Vista");

  // Another tenant sees none of it and writes its own.
  std::string other = h->create_tenant("Other");
  std::string other_admin = user_key(other, "admin");
  EXPECT_TRUE(ids(other_admin, Json::object()).empty());
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v2", other_admin).status, 404);
  ASSERT_EQ(put(other_admin, "v2", {{"day", "2027-01-01"}}).status, 200);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v2", admin).body["document"]["farm"], "Boa Vista");

  EXPECT_EQ(call("DELETE", "/v1/x/org.nucleo.fixtures.store/visits/v3", admin).status, 200);
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.store/visits/v3", admin).status, 404);
  EXPECT_EQ(ids(admin, {{"where", {{"minutes", {{"gt", 40}}}}}}), (std::vector<std::string>{"v2"}));

  // Audited like every write: created, updated, deleted, by the caller's key.
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the sequencer has logged them
    events = call("GET", "/v1/audit/events?entity_id=org.nucleo.fixtures.store/visits/v1", auditor);
    if (events.body["data"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.body["data"].size(), 2u) << events.raw.body;
  std::set<std::string> actions;
  for (const auto& e : events.body["data"]) actions.insert(e["leaf"]["action"].get<std::string>());
  EXPECT_EQ(actions, (std::set<std::string>{"plugin_record.created", "plugin_record.updated"}));
}

TEST_P(RecordStore, RefusesUndeclaredCollectionsUnindexedQueriesAndBadDocuments) {
  auto undeclared = call("POST", "/v1/x/org.nucleo.fixtures.store/undeclared", admin, {{"a", 1}});
  EXPECT_EQ(undeclared.status, 404) << undeclared.raw.body;
  auto query = [&](const Json& q) { return call("POST", "/v1/x/org.nucleo.fixtures.store/visits/query", admin, q); };
  EXPECT_EQ(query({{"where", {{"farm", {{"eq", "x"}}}}}}).status, 422);  // not indexed
  EXPECT_EQ(query({{"where", {{"minutes", {{"gt", "ten"}}}}}}).status, 422);  // wrong type
  EXPECT_EQ(query({{"where", {{"minutes", {{"like", 1}}}}}}).status, 422);
  EXPECT_EQ(query({{"limit", 500}}).status, 422);
  EXPECT_EQ(put(admin, "bad*id", {{"day", "x"}}).status, 422);
  EXPECT_EQ(put(admin, "v9", {{"minutes", "long"}}).status, 422);  // indexed as integer
  EXPECT_EQ(put(admin, "v9", Json::array()).status, 422);
  EXPECT_EQ(h->count("SELECT count(*) FROM plugin_records"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordStore, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
