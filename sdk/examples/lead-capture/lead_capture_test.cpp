// The lead-capture plugin against the SDK's fake host: no kernel, no database — the
// way plugin authors unit-test. (Loaded into a real server by tests/e2e/plugin_test.cpp.)
#include <gtest/gtest.h>

#include <nucleo/sdk/testing/fake_host.hpp>

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace {

using nucleo::sdk::Json;

class LeadCaptureTest : public testing::Test {
 protected:
  void SetUp() override {
    host.services["records.create"] = [](const Json& r) {
      return Json{{"id", r["type"] == "contact" ? "con_1" : "task_1"}, {"type", r["type"]}};
    };
    host.services["interactions.log"] = [](const Json&) { return Json{{"id", "int_1"}}; };
    host.load(&nucleo_plugin_entry, {{"follow_up_hours", 2}, {"channel", "site"}});
  }
  nucleo::sdk::testing::FakeHost host;
};

TEST_F(LeadCaptureTest, ALeadBecomesAContactANoteAndAFollowUpTask) {
  auto reply = host.request("POST", "/leads", {{"name", "Ana"}, {"email", "ana@example.com"}, {"message", "Hi"}});
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.body["contact"]["id"], "con_1");
  ASSERT_EQ(host.service_calls.size(), 3u);
  EXPECT_EQ(host.service_calls[0].request["data"], (Json{{"name", "Ana"}, {"email", "ana@example.com"}}));
  EXPECT_EQ(host.service_calls[1].service, "interactions.log");
  EXPECT_EQ(host.service_calls[1].request["data"]["channel"], "site");
  EXPECT_EQ(host.service_calls[1].request["data"]["contact_id"], "con_1");
  const Json& task = host.service_calls[2].request["data"];
  EXPECT_EQ(task["title"], "Follow up with Ana");
  EXPECT_EQ(task["contact_id"], "con_1");
  EXPECT_TRUE(task["due_at"].is_string());
  EXPECT_EQ(host.counters["leads_captured_total"], 1);
}

TEST_F(LeadCaptureTest, AFormWithoutANameIsTheClientsMistake) {
  try {
    host.request("POST", "/leads", {{"email", "ana@example.com"}});
    FAIL() << "accepted a lead without a name";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "\"name\" is required");
  }
  EXPECT_TRUE(host.service_calls.empty());  // nothing was created
}

TEST_F(LeadCaptureTest, TheKernelsRefusalReachesTheCaller) {
  host.services["records.create"] = [](const Json&) -> Json {
    throw nucleo::sdk::Error(NUCLEO_FORBIDDEN, "the auditor role may not create contacts");
  };
  try {
    host.request("POST", "/leads", {{"name", "Ana"}, {"email", "ana@example.com"}});
    FAIL() << "no error";
  } catch (const nucleo::sdk::Error& e) {
    EXPECT_EQ(e.status(), NUCLEO_FORBIDDEN);
  }
}

}  // namespace
