// Issue #27: the finance pack (verticals/finance) loaded into a real server on both
// backends: the CGU's PEP list through the import, screening of contacts and beneficial
// owners with a reviewer's disposition, four-eyes KYC decisions and the KYC gate that a
// deal's move meets beside the kernel's stage gates. Unit tests: tests/unit/verticals/finance_test.cpp.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "kernel/audit/merkle.hpp"
#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.finance";

// A synthetic registry file of tests/fixtures/registries/.
std::string fixture(const std::string& name) {
  return read_file(std::string(NUCLEO_SOURCE_DIR) + "/tests/fixtures/registries/" + name);
}

class Finance : public ApiFixture {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/nucleo.properties") << "plugins.finance.file = " << FINANCE_PLUGIN_DIR << "\n";
    ApiFixture::SetUp();
  }
  std::vector<std::string> server_arguments() override { return {"--config", dir_.path() + "/nucleo.properties"}; }
  std::string create(const std::string& path, const Json& body, const std::string& key = "") {
    auto made = call("POST", path, key.empty() ? admin : key, body);
    EXPECT_EQ(made.status, 201) << path << ": " << made.raw.body;
    return made.body.value("id", "");
  }
  TempDir dir_;
};

TEST_P(Finance, ThePepListScreensContactsAndOwnersAndEveryHitIsReviewed) {
  auto queued = upload_import(fixture("202511_PEP.csv"), {{"format", "cgu_pep"}}, "", "202511_PEP.csv");
  ASSERT_EQ(queued.status, 202) << queued.raw.body;
  Json list = finished_import(queued.body["id"]);
  ASSERT_EQ(list["status"], "done") << list;
  EXPECT_EQ(list["progress"]["created"], 3000);
  EXPECT_EQ(list["progress"]["failed"], 0);

  std::string account = create("/v1/accounts", {{"legal_name", "Construtora Horizonte S.A."}, {"tax_id", "11.222.333/0001-81"}});
  std::string maria = create("/v1/contacts", {{"name", "Maria das Graças Fonseca"}, {"account_id", account},
                                              {"attributes", {{"finance.cpf", "529.982.247-25"}}}});
  create("/v1/contacts", {{"name", "Maria das Graças Fonseca"}, {"attributes", {{"finance.cpf", "111.444.777-35"}}}});  // a namesake
  create("/v1/contacts", {{"name", "João Carlos Pereira"}, {"attributes", {{"finance.cpf", "111.444.777-35"}}}});  // past grace
  std::string antonio = create("/v1/contacts", {{"name", "Antônio Bezerra Lima"}});  // no CPF: by name
  auto kyc = call("PUT", pack + "/parties/" + account + "/kyc", manager,
                  {{"risk_rating", "high"}, {"review_due", "2027-06-30"},
                   {"beneficial_owners", {{{"name", "MARIA DAS GRACAS FONSECA"}, {"cpf", "529.982.247-25"}, {"share_percent", 40}},
                                          {{"name", "Pedro Alvares"}, {"share_percent", 60}}}}});
  ASSERT_EQ(kyc.status, 200) << kyc.raw.body;

  EXPECT_EQ(call("POST", pack + "/screening/run", user_key(h->tenant, "sales")).status, 403);
  auto run = call("POST", pack + "/screening/run", manager);
  ASSERT_EQ(run.status, 202) << run.raw.body;
  Json runs = until(pack + "/screening/runs", [](const Json& page) { return !page.value("data", Json::array()).empty(); });
  EXPECT_EQ(runs["data"][0]["list_import_id"], list["id"]);
  EXPECT_EQ(runs["data"][0]["list_entries"], 3000);
  EXPECT_EQ(runs["data"][0]["new_hits"], 3);  // Maria as a contact and as an owner; Antônio by name

  Json hits = call("GET", pack + "/screening/hits?disposition=pending", auditor).body;
  ASSERT_EQ(hits["data"].size(), 3u) << hits;
  std::string maria_hit, antonio_match;
  for (const auto& h : hits["data"]) {
    if (h["subject_id"] == maria) maria_hit = h["id"];
    if (h["subject_id"] == antonio) antonio_match = h["match"];
  }
  EXPECT_EQ(antonio_match, "name");
  ASSERT_FALSE(maria_hit.empty()) << hits;
  EXPECT_EQ(call("GET", pack + "/screening/hits", user_key(h->tenant, "sales")).status, 403);

  auto decided = call("POST", pack + "/screening/hits/" + maria_hit + "/disposition", manager,
                      {{"disposition", "true_match"}, {"note", "confirmed against the client's ID"}});
  ASSERT_EQ(decided.status, 200) << decided.raw.body;
  EXPECT_EQ(decided.body["disposition"], "true_match");
  EXPECT_EQ(call("POST", pack + "/screening/hits/" + maria_hit + "/disposition", manager, {{"disposition", "maybe"}}).status, 422);
  Json audited = until("/v1/audit/events?limit=200&action=plugin_record.updated", [&](const Json& page) {
    return page.dump().find("screening_hits/" + maria_hit) != std::string::npos;
  });
  EXPECT_NE(audited.dump().find("true_match"), std::string::npos);
  EXPECT_EQ(call("GET", pack + "/screening/hits?disposition=pending", auditor).body["data"].size(), 2u);

  // A list that is not the CGU's fails the import, saying why.
  auto refused = upload_import("CPF;NOME\n***.111.222-**;X\n", {{"format", "cgu_pep"}}, "", "x.csv");
  Json failed = finished_import(refused.body["id"]);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed.dump().find("not the CGU's PEP list"), std::string::npos) << failed;
}

TEST_P(Finance, AKycDecidedByFourEyesOpensTheGateOfTheDeal) {
  std::string preparer, preparer_key = user_key(h->tenant, "manager", &preparer);
  std::string account = create("/v1/accounts", {{"legal_name", "Agropecuária Serra Azul Ltda"}, {"tax_id", "11.444.777/0001-61"}});
  std::string pipeline = create("/v1/pipelines", {{"name", "Crédito corporativo"}});
  std::string kyc_stage = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "KYC"}, {"key", "kyc"}, {"position", 1}});
  std::string proposal = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"key", "proposta"}, {"position", 2}});
  auto set = call("PUT", "/v1/plugins/org.nucleo.finance/settings", admin, {{"settings", {{"kyc_gate_stages", {"kyc"}}}}});
  ASSERT_EQ(set.status, 200) << set.raw.body;
  std::string deal = create("/v1/deals", {{"name", "Capital de giro"}, {"account_id", account}, {"pipeline_id", pipeline},
                                          {"stage_id", kyc_stage}, {"amount", 250000000}});

  auto blocked = call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", proposal}});
  EXPECT_EQ(blocked.status, 422) << blocked.raw.body;
  EXPECT_NE(blocked.raw.body.find("is missing"), std::string::npos) << blocked.raw.body;

  ASSERT_EQ(call("PUT", pack + "/parties/" + account + "/kyc", preparer_key,
                 {{"risk_rating", "low"}, {"review_due", "2030-01-01"},
                  {"documents_checked", {{{"kind", "contrato social"}, {"checked_on", "2025-11-20"}}}},
                  {"beneficial_owners", {{{"name", "Ana Souza"}, {"cpf", "529.982.247-25"}, {"share_percent", 100}}}}})
                .status,
            200);
  auto bad_owner = call("PUT", pack + "/parties/" + account + "/kyc", preparer_key,
                        {{"beneficial_owners", {{{"name", "Ana Souza"}, {"share_percent", 10}}}}});
  EXPECT_EQ(bad_owner.status, 422);  // below 25 % is not a beneficial owner
  EXPECT_NE(bad_owner.raw.body.find("share_percent"), std::string::npos) << bad_owner.raw.body;
  ASSERT_EQ(call("PUT", pack + "/parties/" + account + "/kyc", preparer_key,
                 {{"risk_rating", "low"}, {"review_due", "2030-01-01"},
                  {"beneficial_owners", {{{"name", "Ana Souza"}, {"cpf", "529.982.247-25"}, {"share_percent", 100}}}}})
                .status,
            200);
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", proposal}}).status, 422);  // pending
  EXPECT_EQ(call("POST", pack + "/parties/" + account + "/kyc/decision", preparer_key, {{"status", "approved"}}).status, 403);
  EXPECT_EQ(call("POST", pack + "/parties/" + account + "/kyc/decision", user_key(h->tenant, "sales"), {{"status", "approved"}}).status,
            403);
  auto approved = call("POST", pack + "/parties/" + account + "/kyc/decision", manager, {{"status", "approved"}, {"note", "docs ok"}});
  ASSERT_EQ(approved.status, 200) << approved.raw.body;
  EXPECT_EQ(approved.body["prepared_by"], preparer);
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", proposal}}).status, 200);
  auto read = call("GET", pack + "/parties/" + account + "/kyc", auditor);
  EXPECT_EQ(read.body["status"], "approved") << read.raw.body;
}

TEST_P(Finance, ADealAdvancesOnlyForASuitableInvestorOrWithHerAcknowledgement) {
  std::string account = create("/v1/accounts", {{"legal_name", "Família Prado Participações"}});
  std::string pipeline = create("/v1/pipelines", {{"name", "Investimentos"}});
  std::string first = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Perfil"}, {"key", "perfil"}, {"position", 1}});
  std::string next = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Ordem"}, {"key", "ordem"}, {"position", 2}});
  std::string investor = create("/v1/contacts", {{"name", "Helena Prado"}, {"account_id", account}});
  std::string deal = create("/v1/deals", {{"name", "Fundo multimercado"}, {"account_id", account}, {"pipeline_id", pipeline},
                                          {"stage_id", first}, {"contacts", {{{"contact_id", investor}, {"role", "investor"}}}},
                                          {"attributes", {{"finance.product_risk", "alto"}}}});
  auto move = [&] { return call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", next}}); };
  auto unprofiled = move();
  EXPECT_EQ(unprofiled.status, 422);
  EXPECT_NE(unprofiled.raw.body.find("has no investor profile"), std::string::npos) << unprofiled.raw.body;

  std::time_t now = std::time(nullptr);
  char today[11];
  std::strftime(today, sizeof today, "%Y-%m-%d", std::gmtime(&now));
  ASSERT_EQ(call("PATCH", "/v1/contacts/" + investor, admin,
                 {{"attributes", {{"finance.investor_profile", "conservador"}, {"finance.profile_assessed_on", today}}}},
                 {{"If-Match", "\"1\""}})
                .status,
            200);
  auto mismatch = move();
  EXPECT_EQ(mismatch.status, 422);
  EXPECT_NE(mismatch.raw.body.find("does not admit a product of risk alto"), std::string::npos) << mismatch.raw.body;

  // Her written acknowledgement of this product's risk, for this deal, lets it advance.
  auto ack = call("POST", pack + "/suitability_acks", user_key(h->tenant, "manager"),
                  {{"deal_id", deal}, {"contact_id", investor}, {"product_risk", "medio"}, {"signed_on", today},
                   {"document_ref", "termo de ciência 2025-118"}});
  ASSERT_EQ(ack.status, 201) << ack.raw.body;
  EXPECT_EQ(move().status, 422);  // an acknowledgement of another risk does not count
  ASSERT_EQ(call("POST", pack + "/suitability_acks", manager,
                 {{"deal_id", deal}, {"contact_id", investor}, {"product_risk", "alto"}, {"signed_on", today},
                  {"document_ref", "termo de ciência 2025-119"}, {"statement", "Estou ciente de que o produto excede meu perfil."}})
                .status,
            201);
  auto advanced = move();
  EXPECT_EQ(advanced.status, 200) << advanced.raw.body;
  EXPECT_EQ(call("POST", "/v1/deals/" + deal + "/stage", admin, {{"stage_id", first}}).status, 200);  // back: never refused
}

TEST_P(Finance, RecordsGoYearsAfterTheRelationshipEndsUnlessHeld) {
  std::string ended = create("/v1/accounts", {{"legal_name", "Comercial Antiga Ltda"},
                                              {"attributes", {{"finance.relationship_ended_on", "2015-03-31"}}}});
  std::string held = create("/v1/accounts", {{"legal_name", "Litígio S.A."},
                                             {"attributes", {{"finance.relationship_ended_on", "2014-01-31"}}}});
  std::string current = create("/v1/accounts", {{"legal_name", "Cliente Ativo Ltda"}});
  std::string person = create("/v1/contacts", {{"name", "Rui Antunes"}, {"account_id", ended}});
  std::string litigant = create("/v1/contacts", {{"name", "Lia Torres"}, {"account_id", held}});
  for (const auto& party : {ended, person, held, current})
    ASSERT_EQ(call("PUT", pack + "/parties/" + party + "/kyc", manager, {{"risk_rating", "low"}}).status, 200);
  ASSERT_EQ(call("POST", "/v1/privacy/holds", admin, {{"contact_id", litigant}, {"reason", "ação judicial 0012345-67.2024"}}).status,
            201);
  EXPECT_EQ(call("POST", pack + "/retention", manager).status, 403);
  // Periods are per record type: KYC kept 15 years keeps these (ended 11 and 12 years ago).
  ASSERT_EQ(call("PUT", "/v1/plugins/org.nucleo.finance/settings", admin, {{"settings", {{"kyc_retention_years", 15}}}}).status, 200);
  auto longer = call("POST", pack + "/retention", admin);
  ASSERT_EQ(longer.status, 200) << longer.raw.body;
  EXPECT_EQ(longer.body["records_deleted"], 0);
  ASSERT_EQ(call("PUT", "/v1/plugins/org.nucleo.finance/settings", admin, {{"settings", Json::object()}}, {{"If-Match", "\"1\""}}).status,
            200);
  auto ran = call("POST", pack + "/retention", admin);
  ASSERT_EQ(ran.status, 200) << ran.raw.body;
  EXPECT_EQ(ran.body["relationships_ended"], 1);
  EXPECT_EQ(ran.body["kept_under_hold"], 1);
  EXPECT_EQ(ran.body["records_deleted"], 2);  // the account's KYC and its contact's
  EXPECT_EQ(call("GET", pack + "/parties/" + ended + "/kyc", admin).status, 404);
  EXPECT_EQ(call("GET", pack + "/parties/" + person + "/kyc", admin).status, 404);
  EXPECT_EQ(call("GET", pack + "/parties/" + held + "/kyc", admin).status, 200);
  EXPECT_EQ(call("GET", pack + "/parties/" + current + "/kyc", admin).status, 200);
}

// Maker-checker on amounts: the kernel's approval criterion with a "when", and the moves
// waiting for a checker in her agenda.
TEST_P(Finance, AMoveAboveTheThresholdWaitsForAnotherPersonsApprovalInHerAgenda) {
  std::string rep, sales = user_key(h->tenant, "sales", &rep);
  std::string checker, checker_key = user_key(h->tenant, "manager", &checker);
  std::string account = create("/v1/accounts", {{"legal_name", "Metalúrgica Vale do Aço"}, {"owner_id", rep}});
  std::string pipeline = create("/v1/pipelines", {{"name", "Crédito"}});
  std::string analysis = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Análise"}, {"position", 1}});
  auto bad = call("POST", "/v1/stages", admin,
                  {{"pipeline_id", pipeline}, {"name", "Liberado"}, {"position", 2},
                   {"entry_criteria", {{{"kind", "approval"}, {"roles", {"manager"}}, {"when", {{"field", "amount"}, {"op", "more"}}}}}}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.raw.body.find("entry_criteria/0/when/op"), std::string::npos) << bad.raw.body;
  std::string released = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Liberado"}, {"position", 2},
                                               {"entry_criteria", {{{"kind", "approval"}, {"roles", {"manager", "admin"}},
                                                                    {"when", {{"field", "amount"}, {"op", "gte"}, {"value", 100000000}}}}}}});
  auto deal = [&](const std::string& name, long amount) {
    return create("/v1/deals", {{"name", name}, {"account_id", account}, {"pipeline_id", pipeline}, {"stage_id", analysis},
                                {"amount", amount}, {"owner_id", rep}}, sales);
  };
  std::string small = deal("Capital de giro", 50000000), large = deal("Financiamento de máquinas", 250000000);

  EXPECT_EQ(call("POST", "/v1/deals/" + small + "/approvals", checker_key, {{"stage_id", released}}).status, 422);  // not needed
  EXPECT_EQ(call("POST", "/v1/deals/" + small + "/stage", sales, {{"stage_id", released}}).status, 200);
  auto refused = call("POST", "/v1/deals/" + large + "/stage", sales, {{"stage_id", released}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.raw.body.find("approval_missing"), std::string::npos) << refused.raw.body;

  auto agenda = call("GET", "/v1/me/agenda", checker_key);
  ASSERT_EQ(agenda.status, 200) << agenda.raw.body;
  ASSERT_EQ(agenda.body["approvals"].size(), 1u) << agenda.body;
  EXPECT_EQ(agenda.body["approvals"][0]["deal"]["id"], large);
  EXPECT_EQ(agenda.body["approvals"][0]["stage"]["id"], released);
  EXPECT_TRUE(call("GET", "/v1/me/agenda", sales).body["approvals"].empty());  // a rep approves nothing here

  ASSERT_EQ(call("POST", "/v1/deals/" + large + "/approvals", checker_key, {{"stage_id", released}, {"note", "dentro da alçada"}}).status,
            200);
  EXPECT_TRUE(call("GET", "/v1/me/agenda", checker_key).body["approvals"].empty());
  EXPECT_EQ(call("POST", "/v1/deals/" + large + "/stage", sales, {{"stage_id", released}}).status, 200);
}

TEST_P(Finance, AnExaminerVerifiesOnePartysExportOffline) {
  std::string account = create("/v1/accounts", {{"legal_name", "Distribuidora Boa Safra Ltda"}, {"tax_id", "11.222.333/0001-81"}});
  std::string person = create("/v1/contacts", {{"name", "Marta Quintas"}, {"account_id", account}});
  ASSERT_EQ(call("PUT", pack + "/parties/" + account + "/kyc", manager,
                 {{"risk_rating", "medium"}, {"beneficial_owners", {{{"name", "Marta Quintas"}, {"share_percent", 100}}}}})
                .status,
            200);
  ASSERT_EQ(call("POST", pack + "/parties/" + account + "/kyc/decision", admin, {{"status", "approved"}}).status, 200);
  EXPECT_EQ(call("GET", pack + "/parties/" + account + "/regulator-export", manager).status, 403);

  // Once the sequencer has logged the events and a checkpoint covers them, each has a proof.
  // The sequencer may log the party's events over more than one pass: wait for the
  // contact's too, or the export can be read between two passes.
  const std::string path = pack + "/parties/" + account + "/regulator-export";
  Json bundle = until(path, [&](const Json& b) {
    const Json& events = b.value("events", Json::array());
    return events.size() >= 4 && std::all_of(events.begin(), events.end(), [](const Json& e) { return !e["proof"].is_null(); }) &&
           b.contains("history") && b["history"].contains("contact/" + person) &&
           !b["history"]["contact/" + person].is_null();  // null until the contact's events are logged
  });
  EXPECT_EQ(bundle["format"], "nucleo-party-bundle");
  EXPECT_EQ(bundle["kyc"][0]["status"], "approved");
  EXPECT_FALSE(bundle["history"]["contact/" + person].is_null());
  std::ofstream(dir_.path() + "/party.json") << bundle.dump();
  std::string origin = bundle["checkpoint"].get<std::string>().substr(0, bundle["checkpoint"].get<std::string>().find('\n'));
  std::ofstream(dir_.path() + "/log.vkey") << audit::vkey(origin, signing_key->public_key()) << "\n";
  auto verify = [&](const std::string& file, const std::string& vkey) {
    return run_process({NUCLEO_BINARY, "audit", "verify", file, "--vkey", vkey}, {}, std::chrono::minutes(1));
  };
  auto passed = verify(dir_.path() + "/party.json", dir_.path() + "/log.vkey");
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_NE(passed.out.find("PASS: " + std::to_string(bundle["events"].size()) + " events"), std::string::npos) << passed.out;

  // A changed event, or another log's key, fails — offline, with no database.
  Json altered = bundle;
  std::string leaf = altered["events"][1]["leaf"];
  leaf.replace(leaf.find("\"seq\""), 5, "\"seq\"");  // the same text: still valid…
  altered["events"][1]["leaf"] = leaf + " ";              // …until a byte is added
  std::ofstream(dir_.path() + "/altered.json") << altered.dump();
  EXPECT_EQ(verify(dir_.path() + "/altered.json", dir_.path() + "/log.vkey").exit_code, 1);
  // A forger who rewrites an event and its hash still has no proof to the signed root.
  Json forged = bundle;
  for (auto& e : forged["events"]) {
    std::string text = e["leaf"];
    auto at = text.find("approved");
    if (at == std::string::npos) continue;
    text.replace(at, 8, "rejected");
    e["leaf"] = text;
    e["leaf_hash"] = audit::to_base64(audit::leaf_hash(text));
    break;
  }
  ASSERT_NE(forged, bundle) << "no event says approved";
  std::ofstream(dir_.path() + "/forged.json") << forged.dump();
  auto caught = verify(dir_.path() + "/forged.json", dir_.path() + "/log.vkey");
  EXPECT_EQ(caught.exit_code, 1) << caught.out << caught.err;
  EXPECT_NE(caught.out.find("does not lead to the checkpoint's root"), std::string::npos) << caught.out;
  auto stranger = audit::SigningKey::generate();
  std::ofstream(dir_.path() + "/other.vkey") << audit::vkey(origin, stranger.public_key()) << "\n";
  auto foreign = verify(dir_.path() + "/party.json", dir_.path() + "/other.vkey");
  EXPECT_NE(foreign.exit_code, 0) << foreign.out;
}

TEST_P(Finance, TheVerticalDemoSeedsKycRecords) {
  EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}};
  auto demo = run_process({NUCLEO_BINARY, "demo", "--vertical", "finance", "--config", dir_.path() + "/nucleo.properties", "--json"},
                          env, std::chrono::minutes(5), dir_.path());
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  Json shown = Json::parse(demo.out);
  EXPECT_EQ(shown["counts"].value("org.nucleo.finance kyc", 0), shown["counts"].value("accounts", -1));
  std::string key = shown["admin_key"];
  Json accounts = call("GET", "/v1/accounts?limit=1", key).body;
  ASSERT_FALSE(accounts["data"].empty());
  auto kyc = call("GET", pack + "/parties/" + accounts["data"][0]["id"].get<std::string>() + "/kyc", key);
  ASSERT_EQ(kyc.status, 200) << kyc.raw.body;
  EXPECT_EQ(kyc.body["beneficial_owners"].size(), 2u);

  // A pack's job run now from the command line, as an operator would after a list import.
  auto job = run_process({NUCLEO_BINARY, "plugins", "run-job", "--config", dir_.path() + "/nucleo.properties", "--tenant",
                          shown["tenant_id"], "--plugin", "org.nucleo.finance", "--job", "pep-screening", "--payload",
                          R"({"force": true})"},
                         env, std::chrono::minutes(1), dir_.path());
  EXPECT_EQ(job.exit_code, 0) << job.err;
  EXPECT_NE(job.out.find("job=pep-screening"), std::string::npos) << job.out;
  auto unknown = run_process({NUCLEO_BINARY, "plugins", "run-job", "--config", dir_.path() + "/nucleo.properties", "--tenant",
                              shown["tenant_id"], "--plugin", "org.nucleo.finance", "--job", "nope"},
                             env, std::chrono::minutes(1), dir_.path());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("registers no job named nope"), std::string::npos) << unknown.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, Finance, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test
