// Issue #8, end to end: the SDK installed into a temp prefix, the lead-capture example it installs
// built out of tree with only find_package(NucleoSDK), loaded into a running server
// beside every broken fixture, and exercised over HTTP. The server keeps serving.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernel/domain/base64.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/record_service.hpp"
#include "nucleo/plugin_abi.h"
#include "tests/e2e/api_fixture.hpp"
#include "tests/support/plugin_folders.hpp"

namespace nucleo::test {
namespace {

namespace fs = std::filesystem;
const std::string lead_capture = "org.nucleo.examples.lead-capture";
const std::string leads_path = "/v1/x/" + lead_capture + "/leads";

// Built once for the binary: cmake --install of the SDK, then the example's own build.
class BuiltExample {
 public:
  static const BuiltExample& get() {
    static BuiltExample built;
    return built;
  }
  std::string prefix() const { return dir_.path() + "/prefix"; }
  std::string plugin_folder() const { return dir_.path() + "/build/lead_capture"; }
  std::string problem;  // why it could not be built

 private:
  BuiltExample() {
    try {
      run_checked({CMAKE_EXECUTABLE, "--install", NUCLEO_BUILD_DIR, "--component", "sdk", "--prefix", prefix()});
      // The example as the SDK installs it: what an author copies to start from.
      run_checked({CMAKE_EXECUTABLE, "-S", prefix() + "/share/nucleo-sdk/examples/lead-capture", "-B",
                   dir_.path() + "/build", "-DCMAKE_PREFIX_PATH=" + prefix(), "-DCMAKE_BUILD_TYPE=Release"});
      run_checked({CMAKE_EXECUTABLE, "--build", dir_.path() + "/build", "--parallel", "2"});
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  TempDir dir_;
};

class Plugins : public ApiFixture {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BuiltExample::get().problem.empty()) << BuiltExample::get().problem;
    broken = broken_plugins(plugins_dir.path());
    std::ofstream config(plugins_dir.path() + "/nucleo.properties");
    config << "plugins.leads.id = " << lead_capture << "\n"
           << "plugins.leads.file = " << BuiltExample::get().plugin_folder() << "\n"
           << "plugins.leads.config.follow_up_hours = 48\n"
           << "outbound.allow = 127.0.0.1\n"
           << "plugins.good.file = " << test::plugin_folder(plugins_dir.path(), "good", "good") << "\n";
    for (const auto& b : broken) {
      config << "plugins." << b.alias << ".file = " << b.file << "\n";
      for (const auto& [key, value] : b.config.items())
        config << "plugins." << b.alias << ".config." << key << " = " << value.get<std::string>() << "\n";
    }
    config.close();
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override {
    std::vector<std::string> args{"--config", plugins_dir.path() + "/nucleo.properties"};
    if (safe_mode) args.push_back("--safe-mode");
    return args;
  }

  Json plugin_status(const Json& list, const std::string& alias) {
    for (const auto& p : list["data"])
      if (p["alias"] == alias) return p;
    return nullptr;
  }

  TempDir plugins_dir;
  std::vector<BrokenPlugin> broken;
  bool safe_mode = false;
};

TEST_P(Plugins, EveryBrokenPluginIsListedWithItsReasonAndAuditedWhileTheServerServes) {
  auto list = call("GET", "/v1/plugins", auditor);
  ASSERT_EQ(list.status, 200) << list.raw.body;
  EXPECT_EQ(list.body["safe_mode"], false);
  EXPECT_EQ(plugin_status(list.body, "leads")["loaded"], true) << list.raw.body;
  EXPECT_EQ(plugin_status(list.body, "good")["loaded"], true) << list.raw.body;
  for (const auto& b : broken) {
    Json s = plugin_status(list.body, b.alias);
    EXPECT_EQ(s["loaded"], false) << b.alias;
    EXPECT_NE(s["problem"].get<std::string>().find(b.reason), std::string::npos) << b.alias << ": " << s;
  }
  EXPECT_EQ(call("GET", "/v1/contacts", admin).status, 200);  // the kernel serves
  EXPECT_EQ(call("GET", "/v1/x/org.nucleo.fixtures.good/ping", admin).status, 200);
  EXPECT_EQ(call("GET", "/v1/plugins", manager).status, 403);  // file paths and errors: admin, auditor

  // One plugin.load_failed event per broken plugin in the tenant's audit log.
  Reply events;
  for (int attempt = 0; attempt < 100; ++attempt) {  // until the sequencer has logged them
    events = call("GET", "/v1/audit/events?action=plugin.load_failed&limit=100", auditor);
    if (events.status == 200 && events.body["data"].size() >= broken.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.body["data"].size(), broken.size()) << events.raw.body;
  bool init_error_recorded = false;
  for (const auto& logged : events.body["data"]) {
    const Json& e = logged["leaf"];
    EXPECT_EQ(e["actor"]["type"], "system");
    EXPECT_EQ(e["entity"]["type"], "plugin");
    if (e["changes"]["alias"]["to"] == "init_error")
      init_error_recorded = e["changes"]["problem"]["to"].get<std::string>().find("the API token is missing") !=
                            std::string::npos;
  }
  EXPECT_TRUE(init_error_recorded) << events.raw.body;
}

// nucleo_add_plugin exports the entry point and nothing else (issue #20): no standard
// library instance of the plugin's can be bound by another library.
TEST(PluginBuild, TheExampleExportsOnlyItsEntryPoint) {
  ASSERT_TRUE(BuiltExample::get().problem.empty()) << BuiltExample::get().problem;
  std::string exported =
      run_checked({"/usr/bin/nm", "-D", "--defined-only", BuiltExample::get().plugin_folder() + "/liblead_capture.so"});
  std::vector<std::string> symbols;
  std::istringstream lines(exported);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) symbols.push_back(line.substr(line.rfind(' ') + 1));
  EXPECT_EQ(symbols, std::vector<std::string>{"nucleo_plugin_entry"}) << exported;
}

TEST_P(Plugins, TheExampleBuiltOutOfTreeCapturesALeadThroughKernelServices) {
  auto lead = call("POST", leads_path, admin,
                   {{"name", "Ana Souza"}, {"email", "ana@example.com"}, {"message", "Quote for 40 seats?"}},
                   {{"Idempotency-Key", "form-1"}});
  ASSERT_EQ(lead.status, 201) << lead.raw.body;
  std::string contact_id = lead.body["contact"]["id"];
  // Its plugin.json describes the route: published with its schemas, and held to them.
  auto doc = call("GET", "/v1/openapi.json", "");
  const Json& op = doc.body["paths"]["/v1/x/org.nucleo.examples.lead-capture/leads"]["post"];
  EXPECT_EQ(op["requestBody"]["content"]["application/json"]["schema"]["required"], (Json{"name", "email"}));
  EXPECT_TRUE(op["responses"].contains("201")) << op.dump();
  EXPECT_FALSE(op.contains("x-nucleo-free-form"));
  EXPECT_EQ(call("POST", leads_path + "?utm=x", admin, {{"name", "E"}, {"email", "e@example.com"}}).status, 400);
  // Each record is the kernel's own, readable through the core API.
  auto contact = call("GET", "/v1/contacts/" + contact_id, admin);
  EXPECT_EQ(contact.body["email"], "ana@example.com");
  auto task = call("GET", "/v1/tasks/" + lead.body["task"]["id"].get<std::string>(), admin);
  EXPECT_EQ(task.body["title"], "Follow up with Ana Souza");
  EXPECT_EQ(task.body["contact_id"], contact_id);
  auto due = parse_rfc3339(task.body["due_at"].get<std::string>());
  auto created = parse_rfc3339(task.body["created_at"].get<std::string>());
  ASSERT_TRUE(due && created);
  EXPECT_NEAR(double(due->micros - created->micros) / 3.6e9, 48.0, 0.01);  // plugins.leads.config.follow_up_hours
  auto note = call("GET", "/v1/interactions/" + lead.body["interaction"]["id"].get<std::string>(), admin);
  EXPECT_EQ(note.body["body"], "Quote for 40 seats?");
  EXPECT_EQ(note.body["channel"], "web-form");  // the manifest's default

  // The kernel's idempotency covers plugin routes: a replay creates nothing new.
  auto replay = call("POST", leads_path, admin,
                     {{"name", "Ana Souza"}, {"email", "ana@example.com"}, {"message", "Quote for 40 seats?"}},
                     {{"Idempotency-Key", "form-1"}});
  EXPECT_EQ(replay.raw.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replay.body["contact"]["id"], contact_id);

  // Client mistakes keep their 4xx through the plugin; nothing is half-written.
  auto before = call("GET", "/v1/contacts?limit=200", admin).body["data"].size();
  auto missing = call("POST", leads_path, admin, {{"email", "x@example.com"}});
  EXPECT_EQ(missing.status, 422);
  // The route's description (plugin.json "routes") is checked by the kernel first.
  EXPECT_EQ(missing.body["errors"][0], (Json{{"field", "name"}, {"message", "is required"}})) << missing.raw.body;
  auto bad_email = call("POST", leads_path, admin, {{"name", "B"}, {"email", "not-an-email"}});
  EXPECT_EQ(bad_email.status, 422);
  EXPECT_NE(bad_email.body["detail"].get<std::string>().find("email"), std::string::npos) << bad_email.raw.body;
  EXPECT_EQ(call_raw("POST", leads_path, admin, "{\"name\":").status, 400);
  EXPECT_EQ(call("POST", leads_path, "", {{"name", "C"}, {"email", "c@example.com"}}).status, 401);
  // The plugin acts as the caller: an auditor may not create contacts through it either.
  EXPECT_EQ(call("POST", leads_path, auditor, {{"name", "D"}, {"email", "d@example.com"}}).status, 403);
  EXPECT_EQ(call("GET", "/v1/contacts?limit=200", admin).body["data"].size(), before);
  EXPECT_EQ(call("GET", leads_path, admin).status, 405);

  // The plugin's counter is on /metrics.
  auto metrics = http_request(port, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("nucleo_plugin_leads_captured_total{plugin=\"" + lead_capture +
                              "\",channel=\"web-form\"} 1\n"),
            std::string::npos)
      << metrics.body;
}

TEST_P(Plugins, WhatCrossesTheAbiAndHowEachAnswerOfARouteReachesTheClient) {
  const std::string base = "/v1/x/org.nucleo.fixtures.good";
  // The request as the plugin sees it: tenant, actor, params, query — not the API key.
  auto echo = call("GET", base + "/echo/ana?utm=site", admin, nullptr, {{"X-Trace", "t1"}});
  ASSERT_EQ(echo.status, 200) << echo.raw.body;
  EXPECT_EQ(echo.body["tenant_id"], h->tenant);
  EXPECT_EQ(echo.body["actor"]["type"], "key");
  EXPECT_EQ(echo.body["params"]["name"], "ana");
  EXPECT_EQ(echo.body["query"]["utm"], "site");
  EXPECT_EQ(echo.body["headers"]["x-trace"], "t1");
  EXPECT_FALSE(echo.body["headers"].contains("authorization")) << echo.raw.body;
  EXPECT_EQ(echo.body["request_id"], echo.raw.header("X-Request-Id"));

  auto conflict = call("POST", base + "/conflict", admin, Json::object());
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body["detail"], "this lead was captured already");
  auto bytes = http_request(port, "GET", base + "/bytes", {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.header("Content-Type"), "text/plain");
  EXPECT_EQ(bytes.body, "olá");
  // A plugin's own failure is a 500 pointing at the log, which names the plugin and
  // keeps its message; the client never sees it.
  for (std::string path : {"/crash", "/garbage"}) {
    auto failed = http_request(port, "GET", base + path, {{"Authorization", "Bearer " + admin}});
    EXPECT_EQ(failed.status, 500) << path;
    EXPECT_NE(failed.body.find("see the server log for request " + failed.header("X-Request-Id")), std::string::npos)
        << failed.body;
    EXPECT_EQ(failed.body.find("hunter2"), std::string::npos) << failed.body;
    std::string log = server->stderr_so_far();
    EXPECT_NE(log.find("request " + failed.header("X-Request-Id") + ": GET " + path), std::string::npos) << log;
  }
  EXPECT_NE(server->stderr_so_far().find("password hunter2"), std::string::npos);

  // Kernel services run in the caller's tenant: another tenant's contact is not found.
  std::string ours = call("POST", "/v1/contacts", admin, {{"name", "Ours"}}).body["id"];
  auto other_tenant = h->create_tenant("Other");
  std::string theirs = services::RecordService(h->deps()).create(h->context(other_tenant), "contact", {{"name", "Theirs"}}).record["id"];
  EXPECT_EQ(call("GET", base + "/contacts/" + ours, admin).body["name"], "Ours");
  auto foreign = call("GET", base + "/contacts/" + theirs, admin);
  EXPECT_EQ(foreign.status, 404) << foreign.raw.body;

  // Outbound HTTP through the host: an allow-listed local target is reached (here the
  // server itself), cloud metadata is refused before any connection.
  auto fetched = call("POST", base + "/fetch", admin, {{"url", "http://127.0.0.1:" + std::to_string(port) + "/healthz"}});
  ASSERT_EQ(fetched.status, 200) << fetched.raw.body;
  EXPECT_EQ(fetched.body["status"], 200);
  EXPECT_EQ(fetched.body["body_base64"], to_base64("{\"status\":\"ok\"}"));
  auto metadata = call("POST", base + "/fetch", admin, {{"url", "http://169.254.169.254/latest/meta-data/"}});
  EXPECT_EQ(metadata.status, 403);
  EXPECT_NE(metadata.body["detail"].get<std::string>().find("169.254.169.254, a link-local"), std::string::npos)
      << metadata.raw.body;

  // A protocol of the plugin's own (SMTP, IMAP): the same rules name where it may connect.
  auto local = call("POST", base + "/resolve", admin, {{"host", "127.0.0.1"}, {"port", 2525}});
  ASSERT_EQ(local.status, 200) << local.raw.body;
  EXPECT_EQ(local.body["addresses"], Json::array({"127.0.0.1"}));
  EXPECT_EQ(local.body["port"], 2525);
  EXPECT_TRUE(local.body["ca_file"].is_string());
  auto link_local = call("POST", base + "/resolve", admin, {{"host", "169.254.169.254"}, {"port", 25}});
  EXPECT_EQ(link_local.status, 403) << link_local.raw.body;
  EXPECT_NE(link_local.body["detail"].get<std::string>().find("169.254.169.254, a link-local (169.254.0.0/16, cloud metadata) address (allow it with outbound.allow)"),
            std::string::npos)
      << link_local.raw.body;
  for (const Json& bad : {Json{{"host", "127.0.0.1"}, {"port", 0}}, Json{{"host", "a b"}, {"port", 25}}, Json{{"port", 25}}}) {
    auto refused = call("POST", base + "/resolve", admin, bad);
    EXPECT_EQ(refused.status, 422) << bad.dump() << " " << refused.raw.body;
  }

  // A public route needs no key, gets the raw body in base64 and no tenant: the
  // kernel's services refuse to run without one (channel accounts come in Plugins II).
  auto hook = http_request(port, "POST", base + "/hook", {{"X-Signature", "sig"}}, "raw \x01 body");
  ASSERT_EQ(hook.status, 202) << hook.body;
  Json seen = Json::parse(hook.body);
  EXPECT_EQ(seen["service_status"], NUCLEO_INVALID_ARGUMENT);
  EXPECT_EQ(seen["request"]["body"], "cmF3IAEgYm9keQ==");
  EXPECT_TRUE(seen["request"]["tenant_id"].is_null());
  EXPECT_EQ(seen["request"]["headers"]["x-signature"], "sig");
}

INSTANTIATE_TEST_SUITE_P(Backends, Plugins, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

class SafeMode : public Plugins {
 protected:
  void SetUp() override {
    safe_mode = true;
    Plugins::SetUp();
  }
};

TEST_P(SafeMode, LoadsNoPluginAndSaysSo) {
  auto list = call("GET", "/v1/plugins", admin);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["safe_mode"], true);
  for (const auto& p : list.body["data"]) {
    EXPECT_EQ(p["loaded"], false);
    EXPECT_EQ(p["problem"], "not loaded: nucleo serve --safe-mode");
  }
  EXPECT_EQ(call("POST", leads_path, admin, {{"name", "A"}, {"email", "a@example.com"}}).status, 404);
  EXPECT_EQ(call("GET", "/v1/contacts", admin).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, SafeMode, testing::Values(store::Backend::sqlite), BackendName());

}  // namespace
}  // namespace nucleo::test
