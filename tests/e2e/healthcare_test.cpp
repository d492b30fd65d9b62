// Issue #27: the healthcare pack (verticals/healthcare) loaded into a real server on both
// backends and used over HTTP as an integrator would: two months of a CNES extract
// through the import, the institution and its hierarchy, history, purchases, contract
// renewals, clinical events behind break-glass with retention under legal holds, the
// sensitive reads the audit trail keeps, and a FHIR export checked against the published
// FHIR R4 JSON Schema. Its unit tests: tests/unit/verticals/healthcare_test.cpp.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "tests/e2e/api_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.healthcare";

// A synthetic registry file of tests/fixtures/registries/.
std::string fixture(const std::string& name) {
  return read_file(std::string(NUCLEO_SOURCE_DIR) + "/tests/fixtures/registries/" + name);
}

class Healthcare : public ApiFixture {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/nucleo.properties") << "plugins.healthcare.file = " << HEALTHCARE_PLUGIN_DIR << "\n"
                                                      << configuration();
    ApiFixture::SetUp();
  }
  virtual std::string configuration() { return ""; }
  std::vector<std::string> server_arguments() override { return {"--config", dir_.path() + "/nucleo.properties"}; }

  Json import_cnes(const std::string& file) {
    auto queued = upload_import(fixture(file), {{"format", "cnes"}}, "", file);
    EXPECT_EQ(queued.status, 202) << queued.raw.body;
    return finished_import(queued.body["id"]);
  }
  std::string account(const Json& body, const std::string& key = "") {
    auto made = call("POST", "/v1/accounts", key.empty() ? admin : key, body);
    EXPECT_EQ(made.status, 201) << made.raw.body;
    return made.body.value("id", "");
  }
  std::string contact(const std::string& account_id, const std::string& name) {
    auto made = call("POST", "/v1/contacts", admin, {{"name", name}, {"account_id", account_id}});
    EXPECT_EQ(made.status, 201) << made.raw.body;
    return made.body.value("id", "");
  }
  Json post(const std::string& path, const Json& body, const std::string& key) {
    auto made = call("POST", pack + path, key, body);
    EXPECT_EQ(made.status, 201) << path << ": " << made.raw.body;
    return made.body;
  }
  // The audit events of an action, once the sequencer has logged `at_least` of them.
  Json audit_events(const std::string& action, std::size_t at_least) {
    return until("/v1/audit/events?limit=200&action=" + action,
                 [&](const Json& page) { return page.value("data", Json::array()).size() >= at_least; })["data"];
  }
  TempDir dir_;
};

TEST_P(Healthcare, TwoMonthsOfCnesMakeInstitutionsAndReportTheChange) {
  Json october = import_cnes("tbEstabelecimento202510.csv");
  ASSERT_EQ(october["status"], "done") << october;
  EXPECT_EQ(october["progress"]["failed"], 0) << october;
  EXPECT_EQ(october["progress"]["created"], 56 + 300) << october;  // accounts with a CNPJ, and every establishment
  EXPECT_EQ(call("GET", pack + "/cnes/stale", admin).body["count"], 0);

  Json november = import_cnes("tbEstabelecimento202511.csv");
  ASSERT_EQ(november["status"], "done") << november;
  EXPECT_EQ(november["progress"]["failed"], 0) << november;

  // The changed registration, with the account it belongs to.
  auto changes = call("GET", pack + "/cnes/changes", admin);
  ASSERT_EQ(changes.status, 200) << changes.raw.body;
  EXPECT_EQ(changes.body["import_id"], november["id"]);
  ASSERT_EQ(changes.body["data"].size(), 1u) << changes.body;
  Json change = changes.body["data"][0];
  EXPECT_EQ(change["changes"]["type_code"], (Json{{"from", "05"}, {"to", "07"}}));
  std::string changed_account = change.value("account_id", "");
  ASSERT_FALSE(changed_account.empty()) << change;
  auto institution = call("GET", "/v1/accounts/" + changed_account, admin);
  EXPECT_EQ(institution.body["attributes"]["health.establishment_type"], "07");
  // … and in the account's timeline, where the kernel merges the pack's collections.
  Json timeline = call("GET", "/v1/accounts/" + changed_account + "/timeline", admin).body;
  bool listed = false;
  for (const auto& item : timeline["data"]) listed = listed || item["kind"] == "org.nucleo.healthcare.registration_changes";
  EXPECT_TRUE(listed) << timeline;

  // The UBS the November extract no longer has is stale; the rest was seen.
  auto stale = call("GET", pack + "/cnes/stale", admin);
  EXPECT_EQ(stale.body["count"], 1) << stale.raw.body;
  EXPECT_EQ(stale.body["data"][0]["type_code"], "02");

  // A hospital group: the flagship maintains itself, its specialty hospitals are its
  // children (their mantenedora CNPJ is its own), its clinics are establishments of it.
  Json groups = call("POST", "/v1/accounts/search", admin,
                     {{"filter_groups", {{{"filters", {{{"field", "legal_name"}, {"op", "contains"}, {"value", "ASSOCIACAO BENEFICENTE"}}}}}}},
                      {"limit", 10}}).body;
  ASSERT_FALSE(groups["data"].empty()) << groups;
  auto flagship = call("GET", pack + "/institutions/" + groups["data"][0]["id"].get<std::string>(), manager);
  ASSERT_EQ(flagship.status, 200) << flagship.raw.body;
  EXPECT_EQ(flagship.body["children"].size(), 3u) << flagship.body;
  EXPECT_GT(flagship.body["establishments"].size(), 1u);
  EXPECT_EQ(flagship.body["stale"], false);
  auto child = call("GET", pack + "/institutions/" + flagship.body["children"][0]["id"].get<std::string>(), manager);
  EXPECT_EQ(child.body["parent"]["id"], groups["data"][0]["id"]);

  // A file that is not the extract fails the import with the pack's reason.
  auto refused = upload_import("CNES;NOME\n1234567;X\n", {{"format", "cnes"}}, "", "x.csv");
  Json failed = finished_import(refused.body["id"]);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed.dump().find("lacks CO_UNIDADE"), std::string::npos) << failed;
}

TEST_P(Healthcare, ContractsTendersOrdersAndRolesMakeTheHistoryAndThePurchases) {
  std::string sales_user, sales = user_key(h->tenant, "sales", &sales_user);
  std::string parent = account({{"legal_name", "Associação Hospitalar Vida"}, {"tax_id", "11.222.333/0001-81"},
                                {"owner_id", sales_user}, {"attributes", {{"health.cnes", "2345678"}}}});
  std::string unit = account({{"legal_name", "Hospital Vida Norte"}, {"owner_id", sales_user},
                              {"attributes", {{"health.cnes", "2345679"}, {"health.mantenedora_cnpj", "11222333000181"}}}});
  std::string person = contact(parent, "Dra. Helena Prado");
  post("/contracts", {{"account_id", parent}, {"number", "7/2025"}, {"object", "Cateteres venosos"},
                      {"value_cents", 120000000}, {"start", "2025-02-01"}, {"end", "2027-01-31"}}, sales);
  post("/tenders", {{"account_id", unit}, {"modality", "pregao_eletronico"}, {"number", "90012/2025"},
                    {"opened_on", "2025-05-10"}, {"outcome", "won"}}, sales);
  post("/orders", {{"account_id", parent}, {"number", "PO-1"}, {"ordered_on", "2025-03-01"}, {"value_cents", 5000000}}, sales);
  post("/orders", {{"account_id", unit}, {"number", "PO-2"}, {"ordered_on", "2025-09-15"}, {"value_cents", 2500000}}, sales);
  post("/roles", {{"account_id", parent}, {"contact_id", person}, {"role", "clinical_champion"}, {"from", "2024-01-01"},
                  {"to", "2025-06-30"}}, sales);
  post("/roles", {{"account_id", parent}, {"contact_id", person}, {"role", "director"}, {"from", "2025-07-01"}}, sales);
  ASSERT_EQ(call("POST", "/v1/interactions", sales,
                 {{"type", "visit"}, {"direction", "outbound"}, {"account_id", unit}, {"occurred_at", "2025-10-01T14:00:00Z"}})
                .status,
            201);

  // The history of the institution and its unit, newest first, a page at a time.
  std::vector<std::string> kinds;
  std::string before;
  for (int page = 0; page < 10; ++page) {
    auto got = call("GET", pack + "/institutions/" + parent + "/history?limit=2" + (before.empty() ? "" : "&before=" + before), sales);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    for (const auto& item : got.body["items"]) kinds.push_back(item["kind"]);
    if (got.body["next_before"].is_null()) break;
    before = got.body["next_before"];
  }
  // By their own dates — the interaction's, the orders', the contract's start — not by
  // when they were written, across the institution and its unit.
  std::vector<std::string> expected{"interaction", "org.nucleo.healthcare.orders", "org.nucleo.healthcare.roles",
                                    "org.nucleo.healthcare.tenders", "org.nucleo.healthcare.orders",
                                    "org.nucleo.healthcare.contracts", "org.nucleo.healthcare.roles"};
  EXPECT_EQ(kinds, expected);

  // Who holds which role now; the earlier role is history.
  Json now = call("GET", pack + "/institutions/" + parent, sales).body;
  ASSERT_EQ(now["roles"].size(), 1u) << now;
  EXPECT_EQ(now["roles"][0]["role"], "director");
  EXPECT_EQ(now["children"][0]["id"], unit);

  auto purchases = call("GET", pack + "/institutions/" + parent + "/purchases?on=2025-12-31", sales);
  ASSERT_EQ(purchases.status, 200) << purchases.raw.body;
  EXPECT_EQ(purchases.body["own"]["orders"], 1);
  EXPECT_EQ(purchases.body["rolled_up"]["orders"], 2);
  EXPECT_EQ(purchases.body["rolled_up"]["value_cents"], 7500000);
  EXPECT_EQ(purchases.body["rolled_up"]["last_order_on"], "2025-09-15");
  EXPECT_EQ(purchases.body["rolled_up"]["recency_days"], 107);
  EXPECT_EQ(call("GET", pack + "/institutions/" + parent + "/purchases?on=31/12/2025", sales).status, 422);

  // Who may write what: an auditor reads, never writes; an integration key needs the scope.
  EXPECT_EQ(call("POST", pack + "/orders", auditor, {{"account_id", parent}, {"number", "X"}, {"ordered_on", "2025-01-01"},
                                                      {"value_cents", 1}}).status, 403);
  EXPECT_EQ(call("GET", pack + "/orders", auditor).status, 200);
  std::string robot = integration_key(h->tenant, Json::array({"org.nucleo.healthcare:read"}));
  EXPECT_EQ(call("GET", pack + "/orders", robot).status, 200);
  EXPECT_EQ(call("POST", pack + "/orders", robot, {{"account_id", parent}, {"number", "X"}, {"ordered_on", "2025-01-01"},
                                                    {"value_cents", 1}}).status, 403);
  // Bad input names the field.
  auto bad = call("POST", pack + "/contracts", sales, {{"account_id", parent}, {"number", "1"}, {"object", "x"},
                                                        {"start", "2025-02-30"}, {"end", "2026-01-01"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.raw.body.find("start"), std::string::npos) << bad.raw.body;
}

TEST_P(Healthcare, AContractNearItsEndGetsOneRenewalTask) {
  std::string hospital = account({{"legal_name", "Hospital Santa Clara"}, {"tax_id", "11.444.777/0001-61"}});
  auto today = std::chrono::system_clock::now();
  auto date_in = [&](int days) {
    std::time_t t = std::chrono::system_clock::to_time_t(today + std::chrono::hours(24 * days));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[11];
    std::strftime(out, sizeof out, "%Y-%m-%d", &tm);
    return std::string(out);
  };
  Json ending = post("/contracts", {{"account_id", hospital}, {"number", "3/2024"}, {"object", "Oxímetros"}, {"start", "2024-01-01"},
                                    {"end", date_in(30)}, {"renewal_notice_days", 60}}, manager);
  post("/contracts", {{"account_id", hospital}, {"number", "4/2024"}, {"object", "Monitores"}, {"start", "2024-01-01"},
                      {"end", date_in(200)}}, manager);  // the tenant's 90 days have not begun
  auto first = call("POST", pack + "/contracts/renewal-check", manager);
  ASSERT_EQ(first.status, 200) << first.raw.body;
  ASSERT_EQ(first.body["tasks_created"].size(), 1u) << first.body;
  std::string task = first.body["tasks_created"][0]["task_id"];
  Json made = call("GET", "/v1/tasks/" + task, admin).body;
  EXPECT_EQ(made["account_id"], hospital);
  EXPECT_NE(made["title"].get<std::string>().find("3/2024"), std::string::npos);
  EXPECT_EQ(call("GET", pack + "/contracts/" + ending["id"].get<std::string>(), manager).body["renewal_task_id"], task);
  EXPECT_EQ(call("POST", pack + "/contracts/renewal-check", manager).body["tasks_created"].size(), 0u);
  EXPECT_EQ(call("POST", pack + "/contracts/renewal-check", user_key(h->tenant, "sales")).status, 403);
}

TEST_P(Healthcare, ClinicalEventsAreBehindBreakGlassAndEveryReadIsAudited) {
  std::string rep, sales = user_key(h->tenant, "sales", &rep);
  std::string hospital = account({{"legal_name", "Hospital São Lucas"}, {"owner_id", rep}});
  Json event = post("/clinical_events", {{"account_id", hospital}, {"occurred_on", "2025-11-02"}, {"kind", "adverse_event"},
                                          {"product", "Cateter 20G"}, {"description", "flebite após 48 h de uso"}}, sales);
  ASSERT_TRUE(event.contains("id")) << event;
  std::string path = pack + "/clinical_events/" + event["id"].get<std::string>();
  EXPECT_EQ(call("GET", path, sales).status, 403);  // a rep breaks the glass with a reason only
  auto broken = call("GET", path, sales, nullptr, {{"X-Reason", "recall 2025-77: lot check requested by the hospital"}});
  ASSERT_EQ(broken.status, 200) << broken.raw.body;
  EXPECT_EQ(broken.body["description"], "flebite após 48 h de uso");
  EXPECT_EQ(call("GET", path, admin).status, 200);
  EXPECT_EQ(call("GET", pack + "/clinical_events", sales).status, 403);  // no list past the glass
  EXPECT_EQ(call("GET", path, user_key(h->tenant, "marketing"), nullptr, {{"X-Reason", "curious"}}).status, 403);

  Json glass = audit_events("plugin_record.break_glass_read", 1);
  ASSERT_EQ(glass.size(), 1u) << glass;
  EXPECT_NE(glass[0].dump().find("recall 2025-77"), std::string::npos) << glass[0];
  Json phi = audit_events("plugin_record.sensitive_read", 2);  // the rep's read and the admin's
  EXPECT_EQ(phi.size(), 2u) << phi;
  EXPECT_NE(phi[0].dump().find("*:phi"), std::string::npos) << phi[0];

  // A rep's clinical note on an interaction is PHI: reading it is audited too.
  auto note = call("POST", "/v1/interactions", sales, {{"type", "visit"}, {"direction", "outbound"}, {"account_id", hospital},
                                                        {"attributes", {{"health.clinical_note", "UTI adulto relata 3 casos de flebite"}}}});
  ASSERT_EQ(note.status, 201) << note.raw.body;
  ASSERT_EQ(call("GET", "/v1/interactions/" + note.body["id"].get<std::string>(), sales).status, 200);
  Json reads = audit_events("interaction.sensitive_read", 1);
  EXPECT_NE(reads[0].dump().find("attributes.health.clinical_note:phi"), std::string::npos) << reads[0];
}

TEST_P(Healthcare, RetentionDeletesOldClinicalEventsExceptUnderALegalHold) {
  std::string hospital = account({{"legal_name", "Hospital Bom Jesus"}});
  std::string kept_contact = contact(hospital, "Enf. Rita Alves"), gone_contact = contact(hospital, "Enf. Ivo Dias");
  auto event = [&](const std::string& on, const std::string& who) {
    return post("/clinical_events", {{"account_id", hospital}, {"occurred_on", on}, {"kind", "product_complaint"},
                                      {"description", "embalagem violada"}, {"contact_id", who}}, admin)["id"].get<std::string>();
  };
  std::string held = event("2015-03-01", kept_contact), old = event("2015-03-02", gone_contact), recent = event("2025-03-02", gone_contact);
  ASSERT_EQ(call("POST", "/v1/privacy/holds", admin, {{"contact_id", kept_contact}, {"reason", "ANVISA inquiry 2025-12"}}).status, 201);
  EXPECT_EQ(call("POST", pack + "/clinical-events/retention", manager).status, 403);
  auto ran = call("POST", pack + "/clinical-events/retention", admin);
  ASSERT_EQ(ran.status, 200) << ran.raw.body;
  EXPECT_EQ(ran.body["deleted"], 1);
  EXPECT_EQ(ran.body["kept_under_hold"], 1);
  EXPECT_EQ(call("GET", pack + "/clinical_events/" + old, admin).status, 404);
  EXPECT_EQ(call("GET", pack + "/clinical_events/" + held, admin).status, 200);
  EXPECT_EQ(call("GET", pack + "/clinical_events/" + recent, admin).status, 200);
  EXPECT_EQ(audit_events("plugin_record.deleted", 1).size(), 1u);
}

TEST_P(Healthcare, TheFhirExportIsValidR4) {
  ASSERT_EQ(import_cnes("tbEstabelecimento202510.csv")["status"], "done");
  Json first = call("GET", "/v1/accounts?limit=1", admin).body["data"][0];
  std::string person = contact(first["id"], "Dr. Paulo Mendes");
  call("PATCH", "/v1/contacts/" + person, admin, {{"attributes", {{"health.council_registration", "CRM-SP 123456"}}}},
       {{"If-Match", "\"1\""}});
  post("/roles", {{"account_id", first["id"]}, {"contact_id", person}, {"role", "purchasing_committee"}, {"from", "2025-01-01"}}, admin);

  TempDir out;
  std::vector<std::string> files;
  auto save = [&](const std::string& name, const std::string& body) {
    files.push_back(out.path() + "/" + name);
    std::ofstream(files.back()) << body;
  };
  std::size_t organizations = 0;
  std::string next = pack + "/fhir/Organization?_count=20";
  for (int page = 0; !next.empty() && page < 10; ++page) {
    auto got = call("GET", next, auditor);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    EXPECT_NE(got.raw.header("Content-Type").find("application/fhir+json"), std::string::npos);
    save("organizations-" + std::to_string(page) + ".json", got.raw.body);
    next.clear();
    for (const auto& entry : got.body["entry"]) organizations += entry["search"]["mode"] == "match";
    for (const auto& link : got.body["link"])
      if (link["relation"] == "next") next = link["url"];
  }
  EXPECT_EQ(organizations, 56u);  // every account with a CNES, once
  for (const char* type : {"Location", "Practitioner", "PractitionerRole"}) {
    auto got = call("GET", pack + "/fhir/" + type + "?_count=100", auditor);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    save(std::string(type) + ".json", got.raw.body);
  }
  auto one = call("GET", pack + "/fhir/Organization/" + first["id"].get<std::string>(), auditor);
  ASSERT_EQ(one.status, 200) << one.raw.body;
  save("organization.json", one.raw.body);

  auto manifest = call("GET", pack + "/fhir/export", auditor);
  ASSERT_EQ(manifest.status, 200) << manifest.raw.body;
  ASSERT_EQ(manifest.body["output"].size(), 4u);
  std::size_t lines = 0;
  for (const auto& output : manifest.body["output"]) {
    auto got = call("GET", output["url"], auditor);
    ASSERT_EQ(got.status, 200) << got.raw.body;
    save(output["type"].get<std::string>() + ".ndjson", got.raw.body);
    lines += std::count(got.raw.body.begin(), got.raw.body.end(), '\n');
  }
  EXPECT_EQ(lines, 56u + 300u + 1u + 1u);  // organizations, locations, the practitioner and her role
  std::vector<std::string> command{"/usr/bin/env", "node", NUCLEO_SOURCE_DIR "/tests/tools/fhir-validate.cjs"};
  command.insert(command.end(), files.begin(), files.end());
  auto checked = run_process(command, {{"NUCLEO_TOOLS", NUCLEO_TOOLS_DIR}}, std::chrono::minutes(2));
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("invalid=0"), std::string::npos) << checked.out;

  // The validator is not a rubber stamp: an id with an underscore is not FHIR's.
  save("broken.json", R"({"resourceType": "Organization", "id": "acc_1", "name": "x"})");
  auto broken = run_process({"/usr/bin/env", "node", NUCLEO_SOURCE_DIR "/tests/tools/fhir-validate.cjs", files.back()},
                            {{"NUCLEO_TOOLS", NUCLEO_TOOLS_DIR}}, std::chrono::minutes(2));
  EXPECT_EQ(broken.exit_code, 1) << broken.out;
}

TEST_P(Healthcare, TheVerticalDemoSeedsTheKernelAndThePack) {
  EnvironmentChanges env{{"NUCLEO_STORE_URL", h->db.app_url}, {"NUCLEO_STORE_WORKER_URL", h->db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h->db.owner_url}};
  auto demo = run_process({NUCLEO_BINARY, "demo", "--vertical", "healthcare", "--config", dir_.path() + "/nucleo.properties",
                           "--json"},
                          env, std::chrono::minutes(5), dir_.path());
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  Json shown = Json::parse(demo.out);
  EXPECT_GT(shown["counts"].value("org.nucleo.healthcare establishments", 0), 24);
  EXPECT_GT(shown["counts"].value("org.nucleo.healthcare contracts", 0), 0);
  EXPECT_GT(shown["counts"].value("org.nucleo.healthcare roles", 0), 0);
  std::string key = shown["admin_key"];
  // The demo tenant's institutions answer through the pack, with their hierarchy.
  Json accounts = call("GET", "/v1/accounts?limit=5", key).body;
  ASSERT_FALSE(accounts["data"].empty());
  auto institution = call("GET", pack + "/institutions/" + accounts["data"][0]["id"].get<std::string>(), key);
  ASSERT_EQ(institution.status, 200) << institution.raw.body;
  EXPECT_FALSE(institution.body["establishments"].empty()) << institution.body;
  auto organizations = call("GET", pack + "/fhir/Organization?_count=100", key);
  EXPECT_EQ(organizations.body["entry"].size(), 24u) << organizations.raw.body.substr(0, 300);

  // Without the pack in its configuration the demo refuses before writing anything.
  std::ofstream(dir_.path() + "/bare.properties") << "http.port = 0\n";
  auto bare = run_process({NUCLEO_BINARY, "demo", "--vertical", "healthcare", "--config", dir_.path() + "/bare.properties"},
                          env, std::chrono::minutes(1), dir_.path());
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_NE(bare.err.find("needs the org.nucleo.healthcare pack"), std::string::npos) << bare.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, Healthcare, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

// A pack that cannot load leaves the kernel serving, and says why.
class HealthcareMisconfigured : public Healthcare {
 protected:
  std::string configuration() override { return "plugins.healthcare.config.region = norte\n"; }
};

TEST_P(HealthcareMisconfigured, TheKernelServesWithoutThePack) {
  auto plugins = call("GET", "/v1/plugins", admin);
  ASSERT_EQ(plugins.status, 200);
  EXPECT_EQ(plugins.body["data"][0]["loaded"], false);
  EXPECT_NE(plugins.body["data"][0]["problem"].get<std::string>().find("region is not a setting"), std::string::npos)
      << plugins.body;
  EXPECT_EQ(call("GET", "/v1/accounts", admin).status, 200);
  EXPECT_EQ(call("GET", pack + "/cnes/stale", admin).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, HealthcareMisconfigured, testing::Values(store::Backend::sqlite), BackendName());

}  // namespace
}  // namespace nucleo::test
