// The `nucleo` binary as a user runs it: exit codes, one-line errors, migrate on both
// backends, and a fast, clear failure when PostgreSQL is unreachable.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernel/audit/audit_log.hpp"
#include "sdk/include/nucleo/plugin_abi.h"
#include "kernel/services/retention.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_harness.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::test {
namespace {

using namespace std::chrono_literals;

ProcessResult nucleo(const std::vector<std::string>& args, const EnvironmentChanges& env = {},
                     const std::string& cwd = "") {
  std::vector<std::string> argv{NUCLEO_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  // A hang is a defect: bound every run.
  auto result = run_process(argv, env, 60s, cwd);
  EXPECT_FALSE(result.timed_out) << "nucleo did not finish: " << result.err;
  return result;
}

int line_count(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(Cli, VersionPrintsOneLine) {
  auto r = nucleo({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("nucleo ", 0), 0u);
  EXPECT_EQ(line_count(r.out), 1);
}

TEST(Cli, EveryCommandHasHelp) {
  for (const char* command : {"serve", "migrate", "tenant", "user", "key", "audit", "version"}) {
    auto r = nucleo({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find(std::string("Usage: nucleo ") + command), std::string::npos) << command;
  }
  auto overview = nucleo({"--help"});
  EXPECT_EQ(overview.exit_code, 0);
  EXPECT_NE(overview.out.find("migrate"), std::string::npos);
}

// nucleo audit verify-inclusion / verify-consistency: offline, exit 0 / 1 / 2.
TEST(Cli, AuditProofFilesAreCheckedOffline) {
  std::map<audit::NodeId, audit::Hash> nodes;
  audit::MerkleFrontier tree;
  for (int i = 0; i < 11; ++i)
    for (const auto& c : tree.append(audit::leaf_hash("event " + std::to_string(i)))) nodes[c.id] = c.hash;
  auto fetch = [&](const std::vector<audit::NodeId>& ids) {
    std::map<audit::NodeId, audit::Hash> out;
    for (const auto& id : ids) out[id] = nodes.at(id);
    return out;
  };
  audit::InclusionProof inclusion{6, 11, nodes.at({0, 6}), tree.root(),
                                  audit::proof_hashes(audit::inclusion_ranges(6, 11), fetch)};
  audit::MerkleFrontier first;
  for (int i = 0; i < 4; ++i) first.append(audit::leaf_hash("event " + std::to_string(i)));
  audit::ConsistencyProof consistency{4, 11, first.root(), tree.root(),
                                      audit::proof_hashes(audit::consistency_ranges(4, 11), fetch)};
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  Json good_inclusion = audit::to_json(inclusion), good_consistency = audit::to_json(consistency);
  auto r = nucleo({"audit", "verify-inclusion", write("i.json", good_inclusion.dump())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "VALID\n");
  EXPECT_EQ(nucleo({"audit", "verify-consistency", write("c.json", good_consistency.dump())}).exit_code, 0);

  Json wrong_index = good_inclusion;
  wrong_index["leaf_index"] = 7;
  r = nucleo({"audit", "verify-inclusion", write("i2.json", wrong_index.dump())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("INVALID", 0), 0u);
  Json wrong_root = good_consistency;
  wrong_root["root1"] = good_consistency["root2"];
  EXPECT_EQ(nucleo({"audit", "verify-consistency", write("c2.json", wrong_root.dump())}).exit_code, 1);

  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string("{\"leaf_index\":1}"),
                                 std::string("{\"leaf_index\":0,\"tree_size\":1,\"root\":\"x\",\"leaf_hash\":\"y\",\"proof\":[]}")}) {
    r = nucleo({"audit", "verify-inclusion", write("bad.json", bad)});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
  }
  EXPECT_EQ(nucleo({"audit", "verify-inclusion", dir.path() + "/missing.json"}).exit_code, 2);
  EXPECT_EQ(nucleo({"audit", "frobnicate"}).exit_code, 2);
}

TEST(Cli, BadUsageExitsTwoWithOneLineOnStderr) {
  for (auto args :
       std::vector<std::vector<std::string>>{{"frobnicate"}, {"migrate", "--frob"}, {"migrate", "--config"}}) {
    auto r = nucleo(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_EQ(line_count(r.err), 1) << r.err;
  }
  EXPECT_EQ(nucleo({}).exit_code, 2);
}

TEST(Cli, InvalidConfigurationExitsTwoAndNamesTheKey) {
  auto r = nucleo({"migrate"}, {{"NUCLEO_STORE_POOL_SIZE", "lots"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("store.pool_size"), std::string::npos) << r.err;
  auto missing = nucleo({"migrate", "--config", "/nonexistent.properties"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent.properties"), std::string::npos);
  auto url = nucleo({"migrate"}, {{"NUCLEO_STORE_URL", "mysql://db/crm"}});
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_NE(url.err.find("store.url"), std::string::npos) << url.err;
}

TEST(Cli, MigrateOnSqliteIsIdempotent) {
  TempDir dir;
  EnvironmentChanges in_dir{{"NUCLEO_STATE_DIR", dir.path()}};
  auto first = nucleo({"migrate"}, in_dir);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("applied 0001_foundation"), std::string::npos) << first.out;
  auto second = nucleo({"migrate"}, in_dir);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("nothing to apply"), std::string::npos) << second.out;
  auto status = nucleo({"migrate", "--status"}, in_dir);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/var/nucleo.db"));
}

// Issue #17: the default SQLite file does not follow the working directory — a key made
// from another folder is a key of the same database — and writes say which store.
TEST(Cli, TheDefaultDatabaseIsTheSameFromAnyWorkingDirectory) {
  TempDir state, here, there;
  EnvironmentChanges env{{"NUCLEO_STATE_DIR", state.path()}};
  auto tenant = nucleo({"tenant", "create", "--name", "Vale"}, env, here.path());
  ASSERT_EQ(tenant.exit_code, 0) << tenant.err;
  EXPECT_NE(tenant.out.find("store=sqlite:" + state.path() + "/var/nucleo.db"), std::string::npos) << tenant.out;
  auto listed = nucleo({"tenant", "list"}, env, there.path());
  EXPECT_NE(listed.out.find("Vale"), std::string::npos) << listed.out;
  EXPECT_FALSE(std::filesystem::exists(here.path() + "/var"));
  EXPECT_FALSE(std::filesystem::exists(there.path() + "/var"));
}

TEST(Cli, MigrateStatusExitsOneWhenMigrationsArePending) {
  TempDir dir;
  auto status = nucleo({"migrate", "--status"}, {{"NUCLEO_STORE_URL", "sqlite:" + dir.path() + "/n.db"}});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.out.find("pending"), std::string::npos) << status.out;
}

TEST(Cli, MigrateOnPostgresqlUsesTheOwnerRoleAndIsIdempotent) {
  auto db = make_test_database(store::Backend::postgresql);
  EnvironmentChanges env{{"NUCLEO_STORE_URL", db.app_url}, {"NUCLEO_STORE_OWNER_URL", db.owner_url}};
  auto first = nucleo({"migrate"}, env);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("applied 0001_foundation"), std::string::npos);
  EXPECT_NE(first.out.find("nucleo_owner"), std::string::npos) << first.out;
  auto second = nucleo({"migrate"}, env);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("nothing to apply"), std::string::npos);
}

// Issue #2: against an unreachable PostgreSQL, migrate fails in seconds with a clear
// message and exit 1. (libpq's connect_timeout bounds the blackholed case; a closed
// port is refused at once. The 60 s bound in nucleo() only catches a hang.)
TEST(Cli, MigrateAgainstUnreachablePostgresqlFailsClearly) {
  std::string url = "postgresql://nucleo_owner@127.0.0.1:" + std::to_string(free_port()) + "/nucleo";
  auto r = nucleo({"migrate"}, {{"NUCLEO_STORE_URL", url}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect to postgresql://nucleo_owner@127.0.0.1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nucleo::test

namespace nucleo::test {
namespace {

std::map<std::string, std::string> parse_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return fields;
}

class AdminCli : public testing::TestWithParam<store::Backend> {
 protected:
  void SetUp() override {
    db_ = make_test_database(GetParam());
    env_ = {{"NUCLEO_STORE_URL", db_.app_url},
            {"NUCLEO_STORE_WORKER_URL", db_.worker_url},
            {"NUCLEO_STORE_OWNER_URL", db_.owner_url}};
  }
  ProcessResult run(const std::vector<std::string>& args) { return nucleo(args, env_); }
  TestDatabase db_;
  EnvironmentChanges env_;
  TempDir dir;
};

// Issue #3: `nucleo tenant create` + `nucleo key create` print what a script parses.
TEST_P(AdminCli, TenantUserAndKeyCreationPrintParseableFields) {
  auto tenant = run({"tenant", "create", "--name", "Cooperativa Vale Verde"});
  ASSERT_EQ(tenant.exit_code, 0) << tenant.err;
  auto t = parse_fields(tenant.out);
  EXPECT_EQ(t["name"], "Cooperativa Vale Verde");
  ASSERT_EQ(t["id"].rfind("ten_", 0), 0u) << tenant.out;

  auto user =
      run({"user", "create", "--tenant", t["id"], "--name", "Ana", "--email", "Ana@Coop.com.br", "--role", "sales"});
  ASSERT_EQ(user.exit_code, 0) << user.err;
  auto u = parse_fields(user.out);
  EXPECT_EQ(u["email"], "ana@coop.com.br");

  auto key = run({"key", "create", "--tenant", t["id"], "--name", "sync", "--role", "sales", "--user", u["id"],
                  "--scopes", "deals:read,interactions:write"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  auto k = parse_fields(key.out);
  EXPECT_EQ(k["id"].rfind("key_", 0), 0u);
  EXPECT_EQ(k["secret"].rfind("nuc_", 0), 0u);
  EXPECT_NE(key.err.find("not shown again"), std::string::npos);

  auto json = run({"key", "create", "--tenant", t["id"], "--name", "bot", "--integration", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["role"], "integration");
  EXPECT_EQ(parsed["secret"].get<std::string>().rfind("nuc_", 0), 0u);
  EXPECT_FALSE(parsed.contains("secret_hash"));

  auto listed = run({"key", "list", "--tenant", t["id"]});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.out.find(k["id"]), std::string::npos);
  EXPECT_EQ(listed.out.find("nuc_"), std::string::npos) << "a secret leaked into key list";

  auto revoked = run({"key", "revoke", "--tenant", t["id"], k["id"], "--reason", "rotated"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_FALSE(parse_fields(revoked.out)["revoked_at"].empty());

  auto tenants = run({"tenant", "list"});
  EXPECT_NE(tenants.out.find(t["id"] + "\tCooperativa Vale Verde"), std::string::npos) << tenants.out;

  // Issue #20: the tenant's clock can move after creation; a zone that does not exist cannot.
  auto moved = run({"tenant", "set-time-zone", "--tenant", t["id"], "--time-zone", "America/Manaus"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(parse_fields(moved.out)["time_zone"], "America/Manaus");
  auto nowhere = run({"tenant", "set-time-zone", "--tenant", t["id"], "--time-zone", "America/Atlantis"});
  EXPECT_EQ(nowhere.exit_code, 2) << nowhere.err;
  EXPECT_NE(nowhere.err.find("America/Atlantis"), std::string::npos) << nowhere.err;
}

// Issue #21: a shipped template applied from the command line, shown first as a dry
// run, then applied, then applied again as a no-op; a broken file exits 2 naming the field.
TEST_P(AdminCli, PipelineApplyShowsTheChangesAndIsIdempotent) {
  auto t = parse_fields(run({"tenant", "create", "--name", "Banco do Cerrado"}).out);
  std::string file = std::string(NUCLEO_SOURCE_DIR) + "/config/examples/pipelines/bank-corporate-credit.json";
  auto dry = run({"pipeline", "apply", "--tenant", t["id"], "--file", file, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("create pipeline credito_corporativo"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("nothing written"), std::string::npos) << dry.out;
  auto applied = run({"pipeline", "apply", "--tenant", t["id"], "--file", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("create stage kyc ("), std::string::npos) << applied.out;
  EXPECT_NE(applied.out.find("applied "), std::string::npos) << applied.out;
  auto again = run({"pipeline", "apply", "--tenant", t["id"], "--file", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "no changes: the pipelines already match the file\n");

  std::string broken = dir.path() + "/broken.json";
  std::ofstream(broken) << R"({"pipelines": [{"key": "x", "name": "X", "stages": [{"key": "a", "name": "A",
                               "entry_criteria": [{"kind": "vibes"}]}]}]})";
  auto refused = run({"pipeline", "apply", "--tenant", t["id"], "--file", broken});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("pipelines/0/stages/0/entry_criteria/0/kind"), std::string::npos) << refused.err;
  EXPECT_EQ(run({"pipeline", "apply", "--tenant", t["id"], "--file", dir.path() + "/missing.json"}).exit_code, 2);
}

// Issue #24: `nucleo import` reads a Brazilian Excel export (Windows-1252, semicolons),
// reports each row to a CSV a spreadsheet opens without running a formula, and a second
// run with the key changes nothing; atomic with a bad row exits 1 having written nothing.
TEST_P(AdminCli, ImportReadsASpreadsheetExportAndReportsEachRow) {
  auto t = parse_fields(run({"tenant", "create", "--name", "Cooperativa Vale Verde"}).out);
  std::string csv = dir.path() + "/contatos.csv", mapping = dir.path() + "/mapping.json", report = dir.path() + "/r.csv";
  std::ofstream(csv, std::ios::binary) << "Nome;E-mail;Cargo\r\n"
                                          "Concei\xE7\xE3o Souza;CONCEICAO@coop.com.br;=HYPERLINK(\"x\")\r\n"
                                          "Sem e-mail;nao-e-email;\r\n"
                                          "Jo\xE3o;joao@coop.com.br;Comprador\r\n";
  std::ofstream(mapping) << R"({"entity": "contact", "key": "email",
                               "columns": {"Nome": "name", "E-mail": "email", "Cargo": "job_title"}})";
  std::vector<std::string> args{"import", "--tenant", t["id"], "--file", csv, "--mapping", mapping,
                                "--encoding", "windows-1252", "--report", report};
  auto first = run(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto f = parse_fields(first.out);
  EXPECT_EQ(f["rows"], "3");
  EXPECT_EQ(f["created"], "2");
  EXPECT_EQ(f["failed"], "1");
  EXPECT_NE(first.err.find("100% 3 rows"), std::string::npos) << "progress, plain lines off a terminal: " << first.err;
  std::ifstream written(report);
  std::stringstream lines;
  lines << written.rdbuf();
  EXPECT_EQ(lines.str().substr(0, 39), "row,line,action,id,column,message\r\n1,2,") << lines.str();
  EXPECT_NE(lines.str().find("2,3,failed,,email,is not a valid e-mail address"), std::string::npos) << lines.str();

  auto again = run(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_fields(again.out)["unchanged"], "2");
  EXPECT_EQ(parse_fields(again.out)["created"], "0");

  args.push_back("--atomic");
  std::ofstream(csv, std::ios::binary) << "Nome;E-mail;Cargo\r\nNova;nova@coop.com.br;\r\nRuim;ruim;\r\n";
  auto atomic = run(args);
  EXPECT_EQ(atomic.exit_code, 1) << atomic.err;
  EXPECT_NE(atomic.err.find("the atomic import wrote nothing: 1 row(s) failed"), std::string::npos) << atomic.err;
  auto latin = run({"import", "--tenant", t["id"], "--file", csv, "--mapping", mapping, "--encoding", "ebcdic"});
  EXPECT_EQ(latin.exit_code, 2) << latin.err;
  std::ofstream(csv, std::ios::binary) << "Nome;E-mail;Cargo\r\nJo\xE3o;j@x.com;\r\n";
  auto undeclared = run({"import", "--tenant", t["id"], "--file", csv, "--mapping", mapping});
  EXPECT_EQ(undeclared.exit_code, 2) << undeclared.err;
  EXPECT_NE(undeclared.err.find("is not UTF-8 text: declare the file's encoding"), std::string::npos) << undeclared.err;

  // A .jsonl file is read as JSON Lines, keyed by the same mapping's columns.
  std::string jsonl = dir.path() + "/contatos.jsonl";
  std::ofstream(jsonl) << R"({"Nome": "Lia", "E-mail": "lia@coop.com.br", "Cargo": "Compras"})" "\n"
                          "not json\n";
  auto json_lines = run({"import", "--tenant", t["id"], "--file", jsonl, "--mapping", mapping});
  ASSERT_EQ(json_lines.exit_code, 0) << json_lines.err;
  EXPECT_EQ(parse_fields(json_lines.out)["created"], "1");
  EXPECT_EQ(parse_fields(json_lines.out)["failed"], "1");
  auto wrong = run({"import", "--tenant", t["id"], "--file", jsonl, "--mapping", mapping, "--format", "xml"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("unknown import format xml (this server reads csv, jsonl)"), std::string::npos) << wrong.err;
  EXPECT_EQ(run({"import", "--tenant", t["id"], "--file", csv}).exit_code, 2);  // csv needs a mapping

  // A configured plugin's format (the pack fixture's CAR registry, ABI 1.6), with its own mapping.
  std::string pack = dir.path() + "/pack";
  std::filesystem::create_directories(pack);
  for (auto [from, to] : {std::pair{"pack.so", "pack.so"}, std::pair{"pack.json", "plugin.json"}})
    std::filesystem::copy_file(std::string(PLUGIN_FIXTURE_DIR) + "/" + from, pack + "/" + to,
                               std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir.path() + "/nucleo.properties") << "plugins.pack.file = " << pack << "\n";
  std::string car = dir.path() + "/car.csv";
  std::ofstream(car) << "CAR;CPF_CNPJ;PRODUTOR;MUNICIPIO;AREA_HA\nMT-1;11.222.333/0001-81;Agro Sul;Sorriso;10\n";
  auto registry = run({"import", "--config", dir.path() + "/nucleo.properties", "--tenant", t["id"], "--file", car,
                       "--format", "car_registry"});
  ASSERT_EQ(registry.exit_code, 0) << registry.err;
  EXPECT_EQ(parse_fields(registry.out)["created"], "2") << registry.out;  // the account and the farm
}

// Issue #21: `nucleo demo` twice gives two independent tenants, each with a key that
// works and a data set that went through the services' validation and the gates.
TEST_P(AdminCli, DemoCreatesAnIndependentTenantEachRun) {
  auto first = run({"demo", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = run({"demo", "--tenant-name", "Segunda demo", "--template", "bank-corporate-credit", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  using Json = nlohmann::json;
  Json a = Json::parse(first.out), b = Json::parse(second.out);
  EXPECT_NE(a["tenant_id"], b["tenant_id"]);
  EXPECT_NE(a["admin_key"], b["admin_key"]);
  for (const Json* demo : {&a, &b}) {
    EXPECT_EQ((*demo)["counts"]["accounts"], 24);
    EXPECT_GE((*demo)["counts"]["deals"].get<int>(), 24);
    EXPECT_GE((*demo)["counts"]["stalled deals"].get<int>(), 1);
  }
  EXPECT_GE(b["counts"]["approvals"].get<int>(), 1);  // the bank's gates ask a manager's approval
  auto tenants = run({"tenant", "list"});
  EXPECT_NE(tenants.out.find("Segunda demo"), std::string::npos) << tenants.out;
  auto unknown = run({"demo", "--template", "space-mining"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("space-mining"), std::string::npos) << unknown.err;
}

TEST_P(AdminCli, MistakesExitTwoOrOneWithAOneLineReason) {
  auto no_sub = run({"tenant"});
  EXPECT_EQ(no_sub.exit_code, 2);
  auto bad_sub = run({"key", "frob", "--tenant", "ten_x"});
  EXPECT_EQ(bad_sub.exit_code, 2);
  auto no_name = run({"tenant", "create"});
  EXPECT_EQ(no_name.exit_code, 2);
  EXPECT_NE(no_name.err.find("--name"), std::string::npos);
  auto unknown_tenant = run({"user", "list", "--tenant", "ten_01m80gv6y4eqcsmge90bwbtca7"});
  EXPECT_EQ(unknown_tenant.exit_code, 1);
  EXPECT_NE(unknown_tenant.err.find("no tenant"), std::string::npos);
  auto t = parse_fields(run({"tenant", "create", "--name", "T"}).out);
  auto bad_user = run({"user", "create", "--tenant", t["id"], "--name", "X", "--email", "nope", "--role", "boss"});
  EXPECT_EQ(bad_user.exit_code, 2);
  EXPECT_NE(bad_user.err.find("email"), std::string::npos);
  EXPECT_NE(bad_user.err.find("role"), std::string::npos);
  EXPECT_EQ(line_count(bad_user.err), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminCli, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

// Issue #30: retention as the CLI runs it. The dry run lists what the run takes; a run
// killed with SIGKILL midway leaves every contact erased whole or untouched — never a
// contact without her name but with her messages, or the reverse —, and the next run
// finishes the rest.
class RetentionCli : public testing::TestWithParam<store::Backend> {};

TEST_P(RetentionCli, AKilledRunLeavesNothingHalfErased) {
  ServiceHarness h(GetParam());  // its clock is in the past: what it writes is months old
  services::CallContext ctx = h.context(h.tenant);
  services::RecordService records = h.records();
  constexpr int people = 400;
  for (int i = 0; i < people; ++i) {
    std::string id = records.create(ctx, "contact", {{"name", "Pessoa " + std::to_string(i)},
                                                     {"email", "p" + std::to_string(i) + "@example.com"}}).record["id"];
    for (int j = 0; j < 2; ++j)
      records.create(ctx, "interaction", {{"type", "whatsapp"}, {"direction", "inbound"}, {"contact_id", id},
                                          {"body", "Mensagem " + std::to_string(i) + "/" + std::to_string(j)}});
  }
  services::RetentionService(h.deps()).define_policy(ctx, "stale", {{"description", "no activity for 30 days"},
                                                                    {"entity", "contact"}, {"after_days", 30}});
  EnvironmentChanges env{{"NUCLEO_STORE_URL", h.db.app_url}, {"NUCLEO_STORE_WORKER_URL", h.db.worker_url},
                         {"NUCLEO_STORE_OWNER_URL", h.db.owner_url}};
  auto plan = nucleo({"privacy", "retention", "--tenant", h.tenant, "--dry-run"}, env);
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("stale (contact, before "), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("would touch " + std::to_string(people) + ", 0 under legal hold"), std::string::npos) << plan.out;
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts WHERE erased_at IS NOT NULL"), 0);  // a dry run writes nothing

  const std::string erased = "SELECT count(*) FROM contacts WHERE erased_at IS NOT NULL";
  {
    ChildProcess run({NUCLEO_BINARY, "privacy", "retention", "--tenant", h.tenant}, env);
    for (int i = 0; i < 6000 && h.count(erased) < 20 && run.running(); ++i) std::this_thread::sleep_for(5ms);
    run.signal(SIGKILL);
    run.wait(10s);
  }
  int killed_at = h.count(erased);
  ASSERT_GT(killed_at, 0);
  ASSERT_LT(killed_at, people) << "the run ended before it was killed: nothing was proven";
  // Erased whole: no message, no sealed value left; untouched: her name, messages and key.
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts c WHERE c.erased_at IS NOT NULL AND (c.name <> 'Erased contact' OR"
                    " EXISTS (SELECT 1 FROM interactions i WHERE i.contact_id = c.id AND i.body IS NOT NULL) OR"
                    " EXISTS (SELECT 1 FROM audit_sealed_values v WHERE v.subject_id = c.id))"), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts c WHERE c.erased_at IS NULL AND (c.name = 'Erased contact' OR"
                    " EXISTS (SELECT 1 FROM interactions i WHERE i.contact_id = c.id AND i.body IS NULL) OR"
                    " NOT EXISTS (SELECT 1 FROM privacy_subject_keys k WHERE k.subject_id = c.id))"), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM retention_runs WHERE finished_at IS NULL"), 1);  // the killed one

  auto rest = nucleo({"privacy", "retention", "--tenant", h.tenant}, env);
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_NE(rest.out.find("touched " + std::to_string(people - killed_at) + ", 0 under legal hold"), std::string::npos)
      << rest.out;
  EXPECT_EQ(h.count(erased), people);
}

INSTANTIATE_TEST_SUITE_P(Backends, RetentionCli, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         BackendName());

}  // namespace
}  // namespace nucleo::test

namespace nucleo::test {
namespace {

// A plugin folder holding `fixture` (a library of tests/plugin_abi) under the
// manifest's library name, as an installed plugin would be.
void install_plugin(const std::string& folder, const std::string& fixture) {
  std::filesystem::create_directories(folder);
  std::filesystem::copy_file(std::string(PLUGIN_FIXTURE_DIR) + "/" + fixture + ".so", folder + "/libwa.so",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(folder + "/plugin.json")
      << R"({"id": "com.acme.whatsapp", "version": "1.4.0", "kind": "channel", "library": "libwa.so",
            "kernel": ">=0.1.0 <1.0.0", "config_schema": {"api_base": {"type": "string", "required": true}},
            "data_classes": ["pii"], "status": "stable"})";
}

// Issue #8: manifests are read without loading any plugin code. Issue #20: whether
// the library runs here comes from its ABI tag, not from the manifest alone.
TEST(CliPlugins, InspectAndListReadManifestsAndNameEveryProblem) {
  TempDir dir;
  install_plugin(dir.path() + "/wa", "good");
  std::ofstream(dir.path() + "/bad.json") << R"({"id": "Bad Id", "kind": "theme"})";

  auto good = nucleo({"plugins", "inspect", dir.path() + "/wa"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("id=com.acme.whatsapp\nversion=1.4.0\nkind=channel\n"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("abi=" + std::to_string(NUCLEO_ABI_MAJOR) + "." + std::to_string(NUCLEO_ABI_MINOR)),
            std::string::npos)
      << good.out;
  EXPECT_NE(good.out.find("runs_on_this_kernel=yes\n"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("settings=api_base*"), std::string::npos) << good.out;

  auto bad = nucleo({"plugins", "inspect", dir.path() + "/bad.json"});
  EXPECT_EQ(bad.exit_code, 2);
  for (const char* named : {"id must be reverse-DNS", "version is required", "kind must be", "library is required"})
    EXPECT_NE(bad.err.find(named), std::string::npos) << bad.err;
  EXPECT_EQ(nucleo({"plugins", "inspect", dir.path() + "/missing"}).exit_code, 2);

  std::ofstream(dir.path() + "/nucleo.properties")
      << "plugins.wa.file = " << dir.path() << "/wa\nplugins.broken.file = " << dir.path() << "/bad.json\n";
  auto listed = nucleo({"plugins", "list", "--config", dir.path() + "/nucleo.properties"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(line_count(listed.out), 3) << listed.out;  // header + two plugins
  EXPECT_NE(listed.out.find("wa\tcom.acme.whatsapp\t1.4.0\tchannel\tstable\tyes\t"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("broken\t-"), std::string::npos) << listed.out;
}

TEST(CliPlugins, InspectReadsTheLibrarysAbiWithoutLoadingIt) {
  TempDir dir;
  install_plugin(dir.path() + "/major2", "wrong_major");
  auto major2 = nucleo({"plugins", "inspect", dir.path() + "/major2"});
  EXPECT_EQ(major2.exit_code, 0) << major2.err;
  EXPECT_NE(major2.out.find("abi=2."), std::string::npos) << major2.out;
  EXPECT_NE(major2.out.find("runs_on_this_kernel=no (built for plugin ABI 2."), std::string::npos) << major2.out;
  auto as_json = Json::parse(nucleo({"plugins", "inspect", "--json", dir.path() + "/major2"}).out);
  EXPECT_EQ(as_json["runs_on_this_kernel"], false);
  EXPECT_EQ(as_json["abi"].get<std::string>().substr(0, 2), "2.");

  install_plugin(dir.path() + "/untagged", "untagged");
  auto untagged = nucleo({"plugins", "inspect", dir.path() + "/untagged"});
  EXPECT_NE(untagged.out.find("abi=-\n"), std::string::npos) << untagged.out;
  EXPECT_NE(untagged.out.find("runs_on_this_kernel=unknown (unknown: libwa.so carries no ABI tag"), std::string::npos)
      << untagged.out;

  std::filesystem::create_directories(dir.path() + "/nolib");
  std::filesystem::copy_file(dir.path() + "/major2/plugin.json", dir.path() + "/nolib/plugin.json");
  auto missing = nucleo({"plugins", "inspect", dir.path() + "/nolib"});
  EXPECT_EQ(missing.exit_code, 0) << missing.err;
  EXPECT_NE(missing.out.find("runs_on_this_kernel=no (cannot read the plugin library"), std::string::npos)
      << missing.out;
}

}  // namespace
}  // namespace nucleo::test
