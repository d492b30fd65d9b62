#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kernel/audit/checkpoint.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::test {

using Json = nlohmann::json;

// A `nucleo serve` process over a migrated database of either backend, with a tenant
// seeded through the services: users of several roles and an API key for each.
class ApiFixture : public testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Extra environment for the server (limits in limit tests).
  virtual EnvironmentChanges server_environment() { return {}; }
  // Extra arguments after `nucleo serve` (a --config file, --safe-mode).
  virtual std::vector<std::string> server_arguments() { return {}; }
  // Starts `nucleo serve` (again, after a test killed it) and waits for /healthz.
  void start_server();
  // What start_server() gives `nucleo serve`: the database, audit and HTTP settings with
  // server_environment() over them (a test starting more nodes on the same database).
  EnvironmentChanges node_environment();

  struct Reply {
    int status = 0;
    Json body;
    HttpResponse raw;
  };
  Reply call(const std::string& method, const std::string& path, const std::string& key, const Json& body = nullptr,
             std::map<std::string, std::string> headers = {});
  Reply call_raw(const std::string& method, const std::string& path, const std::string& key, const std::string& body,
                 std::map<std::string, std::string> headers = {});

  // Polls GET `path` as admin until `done` holds (work the server does in the background:
  // jobs, dispatch, imports); a failure of the test when it never does (a minute: shared
  // machines are slow at times). Returns the last body.
  Json until(const std::string& path, const std::function<bool(const Json&)>& done);
  // POST /v1/imports: `file` and `fields` as multipart/form-data, as `key` (admin when empty).
  Reply upload_import(const std::string& file, const std::map<std::string, std::string>& fields,
                      const std::string& key = "", const std::string& file_name = "contatos.csv");
  // GET /v1/imports/{id} until the import is done, failed or cancelled.
  Json finished_import(const std::string& id);
  // The interaction once its delivery_status is `status`.
  Json interaction_when(const std::string& id, const std::string& status);

  // A legal basis to write to `contact` first (issue #30): the admin defines `purpose`
  // and records it granted on the company's legitimate interest, over HTTP. A message
  // naming the purpose may then go to her.
  void allow_messages(const std::string& contact, const std::string& purpose = "sales");

  // Creates a user of `role` in `tenant` and a user key for it; returns the secret.
  std::string user_key(const std::string& tenant, const std::string& role, std::string* user_id = nullptr,
                       const Json& team_ids = Json::array());
  std::string integration_key(const std::string& tenant, const Json& scopes);

  // A witness listening for the checkpoints the server POSTs (audit.publish_url).
  std::shared_ptr<struct CheckpointWitness> witness;
  std::vector<std::pair<std::string, std::string>> witnessed();  // (X-Nucleo-Tenant, note)

  std::unique_ptr<ServiceHarness> h;
  std::unique_ptr<audit::SigningKey> signing_key;  // the server signs checkpoints with it
  const std::string origin_host = "crm.test";
  std::string admin, auditor, manager;  // key secrets in h->tenant
  unsigned short port = 0;
  unsigned short witness_port = 0;
  std::unique_ptr<ChildProcess> server;
  TempDir dir;
  int users_created = 0;
  // The hash of the document the server publishes, when exchanges are recorded for the
  // contract check (tests/contract/check.mjs).
  std::string contract_document;
};

}  // namespace nucleo::test
