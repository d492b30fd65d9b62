#include "tests/e2e/api_fixture.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "kernel/services/api_key_service.hpp"
#include "tests/support/postgres_server.hpp"

namespace nucleo::test {

using namespace std::chrono_literals;

struct CheckpointWitness {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> notes;
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

namespace {

class WitnessHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit WitnessHandler(CheckpointWitness& w) : w_(w) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    std::string body((std::istreambuf_iterator<char>(request.stream())), std::istreambuf_iterator<char>());
    {
      std::lock_guard lock(w_.mutex);
      w_.notes.emplace_back(request.get("X-Nucleo-Tenant", ""), body);
    }
    response.setStatus(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
    response.send();
  }

 private:
  CheckpointWitness& w_;
};

class WitnessFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit WitnessFactory(CheckpointWitness& w) : w_(w) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new WitnessHandler(w_);
  }

 private:
  CheckpointWitness& w_;
};

// Where the exchanges go for the contract check (tests/contract/check.mjs), when the
// suite asks for it (NUCLEO_CONTRACT_DIR, set by tests/CMakeLists.txt).
std::string contract_dir() {
  const char* dir = std::getenv("NUCLEO_CONTRACT_DIR");
  return dir ? dir : "";
}

std::string current_test_name() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  return info ? std::string(info->test_suite_name()) + "." + info->name() : "";
}

// Keeps the document the server publishes, named by its hash; returns the hash.
std::string keep_document(const std::string& dir, unsigned short port) {
  std::string document = http_request(port, "GET", "/v1/openapi.json").body;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(document));
  std::filesystem::create_directories(dir + "/documents");
  std::string file = dir + "/documents/" + hash + ".json";
  if (!std::filesystem::exists(file)) {
    std::ofstream(file + ".part") << document;
    std::filesystem::rename(file + ".part", file);
  }
  return hash;
}

void record_exchange(const std::string& dir, const std::string& document, const std::string& method,
                     const std::string& path, const std::map<std::string, std::string>& headers,
                     const std::string& body, const HttpResponse& response) {
  static std::mutex mutex;
  Json line = {{"document", document},
               {"test", current_test_name()},
               {"request", {{"method", method}, {"path", path}, {"headers", headers}, {"body", body}}},
               {"response", {{"status", response.status}, {"headers", response.headers}, {"body", response.body}}}};
  std::lock_guard lock(mutex);
  std::ofstream(dir + "/exchanges." + std::to_string(::getpid()) + ".jsonl", std::ios::app)
      << line.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ApiFixture::witnessed() {
  std::lock_guard lock(witness->mutex);
  return witness->notes;
}

void ApiFixture::SetUp() {
  witness = std::make_shared<CheckpointWitness>();
  Poco::Net::ServerSocket witness_socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  witness->server = std::make_unique<Poco::Net::HTTPServer>(new WitnessFactory(*witness), witness_socket,
                                                            new Poco::Net::HTTPServerParams);
  witness->server->start();
  h = std::make_unique<ServiceHarness>(GetParam());
  admin = user_key(h->tenant, "admin");
  auditor = user_key(h->tenant, "auditor");
  manager = user_key(h->tenant, "manager");

  port = free_port();
  signing_key = std::make_unique<audit::SigningKey>(audit::SigningKey::generate());
  signing_key->save(dir.path() + "/checkpoint-signing.pem");
  witness_port = witness_socket.address().port();
  start_server();
}

EnvironmentChanges ApiFixture::node_environment() {
  EnvironmentChanges env{{"NUCLEO_AUDIT_SIGNING_KEY_FILE", dir.path() + "/checkpoint-signing.pem"},
                         {"NUCLEO_AUDIT_ORIGIN_HOST", origin_host},
                         {"NUCLEO_AUDIT_PUBLISH_DIR", dir.path() + "/published"},
                         {"NUCLEO_AUDIT_CHECKPOINT_EVERY_EVENTS", "1"},
                         {"NUCLEO_AUDIT_PUBLISH_URL", "http://127.0.0.1:" + std::to_string(witness_port) + "/witness"},{"NUCLEO_HTTP_HOST", "127.0.0.1"},
                         {"NUCLEO_HTTP_PORT", std::to_string(port)},
                         {"NUCLEO_STORE_URL", h->db.app_url},
                         {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url},
                         {"NUCLEO_LOG_LEVEL", "warning"},
                         {"NUCLEO_HTTP_DRAIN_WINDOW_MS", "0"},
                         {"NUCLEO_HTTP_CURSOR_SECRET", "test-cursor-secret"},
                         // Out of any test's reach: background work a test waits for must
                         // wake its loop (ADR 0037). The safety poll's own test sets it short.
                         {"NUCLEO_BACKGROUND_SAFETY_POLL_MS", "600000"}};
  for (const auto& [k, v] : server_environment()) env[k] = v;
  return env;
}

void ApiFixture::start_server() {
  EnvironmentChanges env = node_environment();
  // Links the server hands out (unsubscribe) point at this server, unless a test says.
  const bool own_public_url = !env.count("NUCLEO_HTTP_PUBLIC_URL");
  std::vector<std::string> argv{NUCLEO_BINARY, "serve"};
  for (auto& a : server_arguments()) argv.push_back(std::move(a));
  // free_port's port may be taken by another test's server before ours binds it (the
  // suite runs in parallel): then ours exits, and another port is tried. Only a server
  // that is our child's counts as up — another's would answer /healthz as well.
  for (int attempt = 1;; ++attempt) {
    env["NUCLEO_HTTP_PORT"] = std::to_string(port);
    if (own_public_url) env["NUCLEO_HTTP_PUBLIC_URL"] = "http://127.0.0.1:" + std::to_string(port);
    server = std::make_unique<ChildProcess>(argv, env, dir.path());
    auto deadline = std::chrono::steady_clock::now() + 60s;
    bool port_taken = false;
    while (!port_taken && std::chrono::steady_clock::now() < deadline) {
      if (!server->running()) {
        port_taken = server->stderr_so_far().find("Address already in use") != std::string::npos && attempt < 5;
        ASSERT_TRUE(port_taken) << "nucleo serve exited: " << server->stderr_so_far();
        break;
      }
      try {
        if (server->listens_on(port) && http_request(port, "GET", "/healthz").status == 200) {
          if (!contract_dir().empty()) contract_document = keep_document(contract_dir(), port);
          return;
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    if (!port_taken) FAIL() << "nucleo serve did not come up: " << server->stderr_so_far();
    port = free_port();
  }
}

void ApiFixture::TearDown() {
  // The server first: a witness stopped under it would leave a checkpoint POST hanging
  // until its timeout (10 s a test).
  auto stop_witness = [this] {
    if (witness && witness->server) witness->server->stopAll(true);
  };
  if (!server) return stop_witness();
  // Whatever the test did, the server must still be alive: no request may crash it.
  EXPECT_TRUE(server->running()) << "the server died: " << server->stderr_so_far();
  // Every success it answered is the one its route declares to OpenAPI.
  EXPECT_EQ(server->stderr_so_far().find("but its route declares"), std::string::npos) << server->stderr_so_far();
  server->signal(SIGTERM);
  auto result = server->wait(30s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  stop_witness();
  // Whatever the test wrote, it wrote through the one door.
  if (h->db.backend == store::Backend::postgresql) {
    EXPECT_EQ(unaudited_writes(h->db.superuser_url), "");
  }
}

ApiFixture::Reply ApiFixture::call_raw(const std::string& method, const std::string& path, const std::string& key,
                                       const std::string& body, std::map<std::string, std::string> headers) {
  if (!key.empty()) headers["Authorization"] = "Bearer " + key;
  if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
  Reply r;
  r.raw = http_request(port, method, path, headers, body);
  if (!contract_document.empty()) record_exchange(contract_dir(), contract_document, method, path, headers, body, r.raw);
  r.status = r.raw.status;
  r.body = Json::parse(r.raw.body, nullptr, false);
  EXPECT_NE(r.status, 500) << method << " " << path << " → " << r.raw.body;
  // A page for people may answer a browser's 404 with HTML (Route::html_not_found).
  bool browser = headers.count("Accept") && headers["Accept"].find("text/html") != std::string::npos;
  if (r.status >= 400 && !(browser && r.status == 404)) {
    EXPECT_EQ(r.raw.header("Content-Type"), "application/problem+json") << method << " " << path;
    EXPECT_TRUE(r.body.is_object() && r.body.contains("request_id") && r.body.contains("errors")) << r.raw.body;
  }
  EXPECT_FALSE(r.raw.header("X-Request-Id").empty());
  return r;
}

ApiFixture::Reply ApiFixture::call(const std::string& method, const std::string& path, const std::string& key,
                                   const Json& body, std::map<std::string, std::string> headers) {
  return call_raw(method, path, key, body.is_null() ? "" : body.dump(), std::move(headers));
}

Json ApiFixture::until(const std::string& path, const std::function<bool(const Json&)>& done) {
  Json body;
  for (int i = 0; i < 1200; ++i) {
    body = call("GET", path, admin).body;
    if (done(body)) return body;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "waited in vain on " << path << ": " << body << "\nthe server's log:\n" << server->stderr_so_far();
  return body;
}

Json ApiFixture::interaction_when(const std::string& id, const std::string& status) {
  return until("/v1/interactions/" + id, [&](const Json& i) { return i.value("delivery_status", "") == status; });
}

void ApiFixture::allow_messages(const std::string& contact, const std::string& purpose) {
  auto defined = call("PUT", "/v1/privacy/purposes/" + purpose, admin, {{"description", "commercial messages"}});
  ASSERT_EQ(defined.status, 200) << defined.raw.body;
  auto granted = call("POST", "/v1/contacts/" + contact + "/consents", admin,
                      {{"purpose", purpose}, {"action", "grant"}, {"legal_basis", "legitimate_interest"}});
  ASSERT_EQ(granted.status, 201) << granted.raw.body;
}

std::string ApiFixture::user_key(const std::string& tenant, const std::string& role, std::string* user_id,
                                 const Json& team_ids) {
  auto ctx = h->context(tenant);
  std::string n = std::to_string(++users_created);
  Json user =
      h->records()
          .create(
              ctx, "user",
              {{"name", role + " " + n}, {"email", role + n + "@example.com"}, {"role", role}, {"team_ids", team_ids}})
          .record;
  if (user_id) *user_id = user["id"];
  return services::ApiKeyService(h->deps())
      .create(ctx, {{"name", role + " key"}, {"role", role}, {"user_id", user["id"]}})
      .secret;
}

std::string ApiFixture::integration_key(const std::string& tenant, const Json& scopes) {
  return services::ApiKeyService(h->deps())
      .create(h->context(tenant),
              {{"name", "integration"}, {"role", "integration"}, {"integration", true}, {"scopes", scopes}})
      .secret;
}

namespace {
const std::string upload_boundary = "nucleo-test-boundary-7f3a";
}

ApiFixture::Reply ApiFixture::upload_import(const std::string& file, const std::map<std::string, std::string>& fields,
                                            const std::string& key, const std::string& file_name) {
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--" + upload_boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  body += "--" + upload_boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + file_name +
          "\"\r\nContent-Type: text/csv\r\n\r\n" + file + "\r\n--" + upload_boundary + "--\r\n";
  return call_raw("POST", "/v1/imports", key.empty() ? admin : key, body,
                  {{"Content-Type", "multipart/form-data; boundary=" + upload_boundary}});
}

Json ApiFixture::finished_import(const std::string& id) {
  return until("/v1/imports/" + id, [](const Json& i) {
    std::string s = i.value("status", "");
    return s == "done" || s == "failed" || s == "cancelled";
  });
}

}  // namespace nucleo::test
