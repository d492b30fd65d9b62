// Issue #24, imports over HTTP: a spreadsheet uploaded with its mapping becomes a job whose
// progress can be read, whose failed rows download as CSV (formulas defused), that can be
// cancelled, and that — killed with -9 mid-file — resumes on the restarted node and writes
// every row exactly once (records and audit events counted). Both backends.
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

const Json contacts_mapping = {
    {"entity", "contact"},
    {"key", "email"},
    {"columns", {{"Nome", "name"}, {"E-mail", "email"}, {"Cargo", "job_title"}}}};

class Imports : public ApiFixture {
 protected:
  EnvironmentChanges server_environment() override {
    return {{"NUCLEO_IMPORTS_POLL_INTERVAL_MS", "50"}, {"NUCLEO_IMPORTS_STALE_AFTER_MS", "1500"}};
  }
  Reply upload(const std::string& file, std::map<std::string, std::string> fields = {},
               const std::string& key = "") {
    if (!fields.count("mapping")) fields["mapping"] = contacts_mapping.dump();
    return upload_import(file, fields, key);
  }
  Json finished(const std::string& id) { return finished_import(id); }
  int contacts() { return h->count("SELECT count(*) FROM contacts WHERE tenant_id = '" + h->tenant + "'"); }
  // One statement, so one snapshot: counted as two, an event the sequencer moves from
  // pending to the log between them would be counted twice.
  int audited(const std::string& import_id) {
    return h->count("SELECT (SELECT count(*) FROM audit_pending WHERE request_id = '" + import_id + "')"
                    " + (SELECT count(*) FROM audit_log WHERE leaf LIKE '%\"request_id\":\"" + import_id + "\"%')");
  }
};

TEST_P(Imports, AnUploadBecomesAJobWithProgressAndAnErrorReport) {
  std::string sheet =
      "Nome;E-mail;Cargo\r\n"
      "Concei\xE7\xE3o Souza;CONCEICAO@agrosul.com.br;Compradora\r\n"
      "=cmd();nao-e-email;\r\n"
      "Jo\xE3o Lima;joao@agrosul.com.br;\"Gerente\r\nde compras\"\r\n";
  auto queued = upload(sheet, {{"encoding", "windows-1252"}});
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  EXPECT_EQ(queued.body["status"], "queued");
  EXPECT_EQ(queued.body["file_name"], "contatos.csv");
  EXPECT_EQ(queued.body["entity_type"], "contact");
  std::string id = queued.body["id"];

  Json done = finished(id);
  EXPECT_EQ(done["status"], "done") << done;
  EXPECT_EQ(done["progress"]["rows_done"], 3);
  EXPECT_EQ(done["progress"]["created"], 2);
  EXPECT_EQ(done["progress"]["failed"], 1);
  EXPECT_EQ(done["progress"]["percent"], 100);
  EXPECT_EQ(contacts(), 2);
  EXPECT_EQ(audited(id), 2) << "one audit event per record, the import's id as request id";
  auto people = call("GET", "/v1/contacts?email=conceicao@agrosul.com.br", admin);
  ASSERT_EQ(people.body["data"].size(), 1u);
  EXPECT_EQ(people.body["data"][0]["name"], "Conceição Souza") << "decoded from Windows-1252";

  auto errors = call_raw("GET", "/v1/imports/" + id + "/errors", admin, "");
  ASSERT_EQ(errors.status, 200);
  EXPECT_EQ(errors.raw.header("Content-Type").substr(0, 8), "text/csv");
  EXPECT_EQ(errors.raw.body.substr(0, 25), "row,line,column,message\r\n");
  EXPECT_NE(errors.raw.body.find("2,3,email,"), std::string::npos) << errors.raw.body;
  EXPECT_EQ(errors.raw.body.find(",=cmd"), std::string::npos) << "nothing a spreadsheet would run";

  auto listed = call("GET", "/v1/imports", admin);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["data"][0]["id"], id);
  EXPECT_EQ(call("POST", "/v1/imports/" + id + "/cancel", admin).status, 409) << "a finished import stays finished";

  // The same file again changes nothing (upsert by e-mail); a dry run writes nothing.
  Json again = finished(upload(sheet, {{"encoding", "windows-1252"}}).body["id"]);
  EXPECT_EQ(again["progress"]["unchanged"], 2);
  Json dry = finished(upload("Nome;E-mail;Cargo\nBia;bia@x.com.br;\n", {{"dry_run", "true"}}).body["id"]);
  EXPECT_EQ(dry["status"], "done");
  EXPECT_EQ(dry["progress"]["created"], 1);
  EXPECT_EQ(contacts(), 2) << "a dry run writes nothing";
}

TEST_P(Imports, BadUploadsAreRefusedNamingTheProblemAndOnlyAdminsImport) {
  auto no_mapping = upload_import("Nome\nAna\n", {});
  EXPECT_EQ(no_mapping.status, 422) << no_mapping.raw.body;
  EXPECT_NE(no_mapping.raw.body.find("mapping"), std::string::npos);
  auto unknown_field = upload("Nome\nAna\n", {{"mapping", R"({"entity": "contact", "columns": {"Nome": "nome"}})"}});
  EXPECT_EQ(unknown_field.status, 422) << unknown_field.raw.body;
  EXPECT_NE(unknown_field.raw.body.find("nome"), std::string::npos) << unknown_field.raw.body;
  auto unknown_format = upload("Nome\nAna\n", {{"format", "cobol"}});
  EXPECT_EQ(unknown_format.status, 422) << unknown_format.raw.body;
  EXPECT_NE(unknown_format.raw.body.find("csv, jsonl"), std::string::npos) << unknown_format.raw.body;
  auto bad_encoding = upload("Nome\nAna\n", {{"encoding", "ebcdic"}});
  EXPECT_EQ(bad_encoding.status, 422) << bad_encoding.raw.body;
  auto not_multipart = call_raw("POST", "/v1/imports", admin, "Nome\nAna\n", {{"Content-Type", "text/csv"}});
  EXPECT_EQ(not_multipart.status, 415) << not_multipart.raw.body;
  EXPECT_EQ(upload("Nome;E-mail;Cargo\nAna;a@x.com.br;\n", {}, manager).status, 403);
  EXPECT_EQ(call("GET", "/v1/imports/imp_01kwdfkd00fp39ah461j5c184z", admin).status, 404);

  // Another tenant's import is not found, not even to cancel it.
  std::string other_admin = user_key(h->create_tenant("Outra"), "admin");
  auto theirs = upload("Nome;E-mail;Cargo\nAna;ana@outra.com.br;\n", {}, other_admin);
  ASSERT_EQ(theirs.status, 202);
  std::string id = theirs.body["id"];
  EXPECT_EQ(call("GET", "/v1/imports/" + id, admin).status, 404);
  EXPECT_EQ(call("POST", "/v1/imports/" + id + "/cancel", admin).status, 404);
  EXPECT_EQ(call_raw("GET", "/v1/imports/" + id + "/errors", admin, "").status, 404);
  // A body past http.body_limit from anyone but an admin is cut off at its head: a 413, or
  // the connection closed while the client still sends; the server carries on.
  try {
    auto big = upload_import(std::string(2 << 20, 'a'), {}, manager);
    EXPECT_EQ(big.status, 413);
  } catch (const std::exception&) {
  }
  EXPECT_EQ(call("GET", "/v1/imports", admin).status, 200);
}

TEST_P(Imports, AKillMinus9MidFileThenTheRestartedNodeWritesEveryRowExactlyOnce) {
  constexpr int rows = 6000;
  std::string file = "Nome;E-mail;Cargo\n";
  for (int i = 0; i < rows; ++i)
    file += "Contato " + std::to_string(i) + ";contato" + std::to_string(i) + "@importado.com.br;Compras\n";
  auto queued = upload(file);
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  std::string id = queued.body["id"];
  until("/v1/imports/" + id, [](const Json& i) { return i["progress"]["rows_done"].get<int>() >= 500; });
  server->signal(SIGKILL);
  server->wait(std::chrono::seconds(10));
  int before = contacts();
  EXPECT_LT(before, rows) << "killed mid-file";

  start_server();  // same database; the import's runner is silent, so the new node takes it over
  Json done = finished(id);
  EXPECT_EQ(done["status"], "done") << done;
  EXPECT_EQ(done["progress"]["rows_done"], rows);
  EXPECT_EQ(done["progress"]["created"], rows);
  EXPECT_EQ(contacts(), rows) << "every row once";
  EXPECT_EQ(audited(id), rows) << "one audit event per row, none twice";
}

TEST_P(Imports, ACancelledImportStopsAfterItsBatchAndKeepsWhatWasCommitted) {
  std::string file = "Nome;E-mail;Cargo\n";
  for (int i = 0; i < 20000; ++i) file += "C " + std::to_string(i) + ";c" + std::to_string(i) + "@cancel.com.br;\n";
  std::string id = upload(file).body["id"];
  until("/v1/imports/" + id, [](const Json& i) { return i["progress"]["rows_done"].get<int>() >= 500; });
  auto cancelling = call("POST", "/v1/imports/" + id + "/cancel", admin);
  ASSERT_EQ(cancelling.status, 200) << cancelling.raw.body;
  EXPECT_EQ(cancelling.body["cancel_requested"], true);
  Json cancelled = finished(id);
  EXPECT_EQ(cancelled["status"], "cancelled") << cancelled;
  int kept = contacts();
  EXPECT_EQ(kept, cancelled["progress"]["rows_done"].get<int>()) << "what was committed, and no half batch";
  EXPECT_LT(kept, 20000);
  EXPECT_EQ(audited(id), kept);
}

INSTANTIATE_TEST_SUITE_P(Backends, Imports, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
