// The header-only C++ SDK through the fake host: a plugin written with it registers,
// calls kernel services, and never lets an exception cross the C boundary.
#include <gtest/gtest.h>

#include "nucleo/sdk/testing/fake_host.hpp"

namespace {

using nucleo::sdk::Json;
namespace sdk = nucleo::sdk;

// A small lead-capture plugin, as an author would write it.
class LeadCapture : public sdk::Plugin {
 public:
  void init(sdk::Host& host, const Json& config) override {
    owner_ = config.value("default_owner", "");
    host.log(sdk::Level::info, "lead capture ready");
    host.route("POST", "/leads", sdk::Auth::bearer, [&host, this](const sdk::Request& r) {
      if (!r.body.contains("name")) throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "name is required");
      Json contact = host.create(r.call, "contact", {{"name", r.body["name"]}, {"owner_id", owner_}});
      host.create(r.call, "task", {{"title", "Follow up"}, {"contact_id", contact["id"]}});
      return sdk::Response{201, contact};
    });
    host.route("GET", "/boom", sdk::Auth::public_, [](const sdk::Request&) -> sdk::Response {
      throw std::runtime_error("boom");
    });
    host.route("GET", "/bad-json", sdk::Auth::public_, [](const sdk::Request&) -> sdk::Response {
      return {200, Json::parse("{not json")};
    });
    host.subscribe("deal.*", [](const sdk::Event& e) {
      if (e.json["data"].value("fail", false)) throw std::runtime_error("subscriber failed");
      seen_.push_back(e.json["name"]);
    });
    host.validate("deal", [](const nucleo_call*, const Json& change) {
      std::vector<sdk::Reason> reasons;
      if (change["after"].value("amount", 0) < 0) reasons.push_back({"amount", "must not be negative"});
      return reasons;
    });
    // Refusing after registering: the host must forget what a failed init registered.
    if (config.value("refuse", false)) throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "refuse is set");
  }
  void shutdown() override { ++shutdowns; }

  static inline int shutdowns = 0;
  static inline std::vector<std::string> seen_;

 private:
  std::string owner_;
};

}  // namespace

NUCLEO_PLUGIN(LeadCapture, "org.nucleo.tests.lead-capture", "1.2.3")

namespace {

TEST(Sdk, TheEntryPointDescribesThePlugin) {
  const nucleo_plugin_descriptor* d = nucleo_plugin_entry();
  EXPECT_EQ(d->struct_size, sizeof(nucleo_plugin_descriptor));
  EXPECT_EQ(d->abi_major, NUCLEO_ABI_MAJOR);
  EXPECT_EQ(d->abi_minor, NUCLEO_ABI_MINOR);
  EXPECT_STREQ(d->id, "org.nucleo.tests.lead-capture");
  EXPECT_STREQ(d->version, "1.2.3");
}

TEST(Sdk, ARouteCallsKernelServicesAsTheRequestsActor) {
  sdk::testing::FakeHost host;
  int next = 0;
  host.services["records.create"] = [&](const Json& req) {
    return Json{{"id", req["type"].get<std::string>() + "_" + std::to_string(++next)}, {"data", req["data"]}};
  };
  host.load(&nucleo_plugin_entry, {{"default_owner", "usr_7"}});
  EXPECT_EQ(host.logs.at(0).message, "lead capture ready");

  auto reply = host.request("POST", "/leads", {{"name", "Maria Souza"}});
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.body["id"], "contact_1");
  ASSERT_EQ(host.service_calls.size(), 2u);
  EXPECT_EQ(host.service_calls[0].request["data"], (Json{{"name", "Maria Souza"}, {"owner_id", "usr_7"}}));
  EXPECT_EQ(host.service_calls[1].request["data"]["contact_id"], "contact_1");
}

TEST(Sdk, ExceptionsBecomeStatusCodesWithTheirMessage) {
  sdk::testing::FakeHost host;
  host.load(&nucleo_plugin_entry);
  auto status_of = [&](const std::string& method, const std::string& path, const Json& body) {
    try {
      host.request(method, path, body);
    } catch (const sdk::Error& e) {
      return std::make_pair(e.status(), std::string(e.what()));
    }
    return std::make_pair(nucleo_status{NUCLEO_OK}, std::string());
  };
  EXPECT_EQ(status_of("POST", "/leads", Json::object()),
            std::make_pair(nucleo_status{NUCLEO_INVALID_ARGUMENT}, std::string("name is required")));
  EXPECT_EQ(status_of("GET", "/boom", nullptr), std::make_pair(nucleo_status{NUCLEO_INTERNAL}, std::string("boom")));
  EXPECT_EQ(status_of("GET", "/bad-json", nullptr).first, NUCLEO_INVALID_ARGUMENT);
  // A kernel service failing reaches the route as sdk::Error and leaves it the same way.
  host.services["records.create"] = [](const Json&) -> Json { throw sdk::Error(NUCLEO_FORBIDDEN, "sales may not"); };
  EXPECT_EQ(status_of("POST", "/leads", {{"name", "x"}}),
            std::make_pair(nucleo_status{NUCLEO_FORBIDDEN}, std::string("sales may not")));
}

TEST(Sdk, SubscriptionsMatchPatternsAndValidatorsReturnReasons) {
  sdk::testing::FakeHost host;
  host.load(&nucleo_plugin_entry);
  LeadCapture::seen_.clear();
  EXPECT_TRUE(host.publish({{"name", "deal.stage_changed"}, {"data", Json::object()}}).empty());
  EXPECT_TRUE(host.publish({{"name", "contact.created"}, {"data", Json::object()}}).empty());
  EXPECT_EQ(LeadCapture::seen_, std::vector<std::string>{"deal.stage_changed"});
  EXPECT_EQ(host.publish({{"name", "deal.updated"}, {"data", {{"fail", true}}}}),
            std::vector<std::string>{"subscriber failed"});

  EXPECT_TRUE(host.validate("deal", {{"after", {{"amount", 10}}}}).empty());
  EXPECT_EQ(host.validate("deal", {{"after", {{"amount", -1}}}}),
            (Json::array({{{"field", "amount"}, {"message", "must not be negative"}}})));
}

TEST(Sdk, AnInitThatThrowsIsReportedAndShutdownRunsOncePerLoad) {
  int before = LeadCapture::shutdowns;
  {
    sdk::testing::FakeHost host;
    try {
      host.load(&nucleo_plugin_entry, {{"refuse", true}});
      ADD_FAILURE() << "init should have failed";
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.status(), NUCLEO_INVALID_ARGUMENT);
      EXPECT_STREQ(e.what(), "refuse is set");
    }
    EXPECT_FALSE(host.has_route("POST", "/leads"));
  }
  EXPECT_EQ(LeadCapture::shutdowns, before);  // never initialised, never shut down
  {
    sdk::testing::FakeHost host;
    host.load(&nucleo_plugin_entry);
  }
  EXPECT_EQ(LeadCapture::shutdowns, before + 1);
}

}  // namespace
