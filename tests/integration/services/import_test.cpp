// Issue #24, the bulk import's core: a spreadsheet's rows become records through the same
// services (validation, normalisation, one audit event each with the import's id), a
// reference by CNPJ found, a key that makes a second run change nothing, a dry run whose
// report is what the real run does, bad rows that cost only themselves — or, atomic,
// everything. Both backends.
#include "kernel/services/import_service.hpp"
#include "kernel/services/import_jobs.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "kernel/domain/import_mapping.hpp"
#include "kernel/services/principal.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class ImportTest : public testing::TestWithParam<store::Backend> {
 protected:
  ImportTest() : h(GetParam()), ctx(h.context(h.tenant)) {
    agro = h.records().create(ctx, "account", {{"legal_name", "Agro Sul"}, {"tax_id", "11.222.333/0001-81"}}).record["id"];
  }

  struct Run {
    ImportReport report;
    std::vector<ImportRow> rows;
  };
  Run import(const std::string& csv, ImportOptions options = {}, const Json& mapping = contacts_mapping()) {
    std::istringstream file(csv);
    Run run;
    run.report = ImportService(h.deps()).run(ctx, mapping, file, options, [&](const ImportRow& r) { run.rows.push_back(r); });
    return run;
  }
  static Json contacts_mapping() {
    return {{"entity", "contact"},
            {"key", "email"},
            {"columns",
             {{"Nome", "name"},
              {"E-mail", "email"},
              {"Cargo", "job_title"},
              {"CNPJ da empresa", {{"field", "account_id"}, {"lookup", {{"entity", "account"}, {"by", "tax_id"}}}}},
              {"Cliente desde", {{"field", "attributes.cliente_desde"}, {"date", "dd/MM/yyyy"}}}}},
            {"constants", {{"attributes.origem", "planilha"}}}};
  }
  int contacts() { return h.count("SELECT count(*) FROM contacts WHERE tenant_id = '" + h.tenant + "'"); }
  int audited(const std::string& import_id) {
    return h.count("SELECT count(*) FROM audit_pending WHERE request_id = '" + import_id + "'") +
           h.count("SELECT count(*) FROM audit_log WHERE leaf LIKE '%\"request_id\":\"" + import_id + "\"%'");
  }
  void first_import(std::size_t batch);
  static std::vector<std::string> actions(const Run& run) {
    std::vector<std::string> out;
    for (const auto& r : run.rows) out.push_back(r.action);
    return out;
  }

  test::ServiceHarness h;
  CallContext ctx;
  std::string agro;
};

// Brazilian Excel: semicolons, Windows-1252, CRLF.
const std::string sheet =
    "Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\r\n"
    "Concei\xE7\xE3o Souza;CONCEICAO@AgroSul.com.br;Compradora;11.222.333/0001-81;05/03/2021\r\n"
    "Jo\xE3o Lima;joao@agrosul.com.br;;11222333000181;\r\n"
    "Sem E-mail V\xE1lido;nao-e-email;;;\r\n"
    "Empresa Desconhecida;ana@outra.com.br;;99.999.999/0001-91;\r\n"
    "\"Ribeiro; Pedro\";pedro@agrosul.com.br;\"Gerente\r\nde compras\";;31/12/2020\r\n";

ImportOptions windows_1252(std::size_t batch_rows = 500) {
  ImportOptions o;
  o.csv.encoding = TextEncoding::windows_1252;
  o.batch_rows = batch_rows;
  return o;
}

void ImportTest::first_import(std::size_t batch) {
  Run run = import(sheet, windows_1252(batch));
  EXPECT_EQ(actions(run), (std::vector<std::string>{"created", "created", "failed", "failed", "created"}));
  EXPECT_EQ(run.report.rows, 5u);
  EXPECT_EQ(run.report.created, 3u);
  EXPECT_EQ(run.report.failed, 2u);
  EXPECT_TRUE(run.report.written);
  EXPECT_EQ(run.rows[2].line, 4u);
  ASSERT_EQ(run.rows[2].errors.size(), 1u);
  EXPECT_EQ(run.rows[2].errors[0].field, "email");
  ASSERT_EQ(run.rows[3].errors.size(), 1u);
  EXPECT_EQ(run.rows[3].errors[0].field, "account_id");
  EXPECT_EQ(run.rows[3].errors[0].message, "no account has tax_id 99999999000191");
  EXPECT_EQ(contacts(), 3);

  Json conceicao = h.records().get(ctx, "contact", run.rows[0].id);
  EXPECT_EQ(conceicao["name"], "Conceição Souza");
  EXPECT_EQ(conceicao["email"], "conceicao@agrosul.com.br") << "normalised as an API write is";
  EXPECT_EQ(conceicao["account_id"], agro) << "found by its CNPJ";
  EXPECT_EQ(conceicao["attributes"], (Json{{"cliente_desde", "2021-03-05"}, {"origem", "planilha"}}));
  EXPECT_EQ(h.records().get(ctx, "contact", run.rows[4].id)["job_title"], "Gerente\r\nde compras");
  EXPECT_EQ(audited(run.report.import_id), 3) << "one audit event per record, the import's id as request id";
}

TEST_P(ImportTest, RowsBecomeAuditedRecordsAndBadRowsCostOnlyThemselves) { first_import(500); }

// A bad row in a batch sends the batch back to its savepoint and each row alone.
TEST_P(ImportTest, InBatchesOfTwoTheSameHappens) { first_import(2); }

TEST_P(ImportTest, TheKeyMakesASecondRunChangeNothingAndAChangedRowAnUpdate) {
  Run first = import(sheet, windows_1252());
  Run again = import(sheet, windows_1252());
  EXPECT_EQ(actions(again), (std::vector<std::string>{"unchanged", "unchanged", "failed", "failed", "unchanged"}));
  EXPECT_EQ(again.rows[0].id, first.rows[0].id);
  EXPECT_EQ(contacts(), 3);
  EXPECT_EQ(audited(again.report.import_id), 0) << "nothing changed, nothing recorded";

  Run changed = import("Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\n"
                       "Joao Lima;JOAO@agrosul.com.br;Diretor;;\n",
                       windows_1252());
  EXPECT_EQ(actions(changed), std::vector<std::string>{"updated"});
  EXPECT_EQ(changed.rows[0].id, first.rows[1].id) << "found by its e-mail, however it is written";
  EXPECT_EQ(h.records().get(ctx, "contact", first.rows[1].id)["job_title"], "Diretor");
}

TEST_P(ImportTest, ADryRunReportsWhatTheRealRunThenDoesAndWritesNothing) {
  std::string file = std::string(sheet) + "Outra Conceicao;conceicao@agrosul.com.br;Compras;;\r\n";
  Run dry = import(file, [] { auto o = windows_1252(2); o.dry_run = true; return o; }());
  EXPECT_FALSE(dry.report.written);
  EXPECT_EQ(contacts(), 0);
  EXPECT_EQ(audited(dry.report.import_id), 0);
  Run real = import(file, windows_1252(2));
  EXPECT_EQ(actions(dry), actions(real));
  EXPECT_EQ(actions(real).back(), "updated") << "a later row with the same e-mail updates the first";
  EXPECT_EQ(dry.report.to_json()["created"], real.report.to_json()["created"]);
}

// A batch asks the database once for what its rows would each ask (live references, who
// else holds an e-mail or phone) and answers exactly as one write at a time would.
TEST_P(ImportTest, ABatchAnswersAsOneWriteAtATimeWould) {
  Json existing = h.records().create(ctx, "contact", {{"name", "Antiga"}, {"phone", "(11) 99999-0000"}}).record;
  std::string closed = h.records().create(ctx, "account", {{"legal_name", "Fechada"}}).record["id"];
  h.records().archive(ctx, "account", closed);
  Json mapping = {{"entity", "contact"},
                  {"key", "email"},
                  {"columns", {{"Nome", "name"}, {"E-mail", "email"}, {"Fone", "phone"}, {"Conta", "account_id"}}}};
  Run run = import("Nome;E-mail;Fone;Conta\n"
                   "Ana;ana@x.com.br;+55 11 99999-0000;" + agro + "\n"
                   "Bia;bia@x.com.br;11 99999-0000;\n"
                   "Caio;caio@x.com.br;;" + closed + "\n"
                   "Ana de novo;ANA@x.com.br;;\n",
                   {}, mapping);
  EXPECT_EQ(actions(run), (std::vector<std::string>{"created", "created", "failed", "updated"}));
  ASSERT_EQ(run.rows[0].duplicates.size(), 1u) << run.rows[0].duplicates;
  EXPECT_EQ(run.rows[0].duplicates[0]["id"], existing["id"]);
  ASSERT_EQ(run.rows[1].duplicates.size(), 2u) << "the earlier row of the same batch too";
  std::set<std::string> holders{run.rows[1].duplicates[0]["id"], run.rows[1].duplicates[1]["id"]};
  EXPECT_EQ(holders, (std::set<std::string>{existing["id"], run.rows[0].id}));
  ASSERT_EQ(run.rows[2].errors.size(), 1u);
  EXPECT_EQ(run.rows[2].errors[0].message, "no live account " + closed + " in this tenant");
  EXPECT_EQ(run.rows[3].id, run.rows[0].id) << "the repeated e-mail updates the record its first row made";
  EXPECT_EQ(h.records().get(ctx, "contact", run.rows[0].id)["name"], "Ana de novo");
  EXPECT_EQ(h.records().get(ctx, "contact", run.rows[0].id)["account_id"], agro);

  // Each new contact is its own data subject: a key each, under which its personal data
  // is sealed in the audit trail.
  for (const auto& id : {run.rows[0].id, run.rows[1].id})
    EXPECT_EQ(h.count("SELECT count(*) FROM privacy_subject_keys WHERE subject_id = '" + id + "'"), 1) << id;
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_sealed_values WHERE subject_id = '" + run.rows[1].id + "'"), 3)
      << "name, e-mail and phone";
  EXPECT_EQ(h.count("SELECT count(*) FROM contact_points WHERE entity_id = '" + run.rows[1].id + "'"), 2);
}

// The same mapping reads a JSON Lines export: keys are the columns; numbers become cells.
TEST_P(ImportTest, JsonLinesRowsAreObjectsKeyedByTheMappingsColumns) {
  ImportOptions jsonl;
  jsonl.format = ImportFormat::jsonl;
  Run run = import("{\"Nome\": \"Ana\", \"E-mail\": \"ana@agrosul.com.br\", \"CNPJ da empresa\": \"11.222.333/0001-81\"}\n"
                   "[\"not\", \"an object\"]\n"
                   "{\"Nome\": \"Bia\", \"E-mail\": null, \"Cargo\": 7, \"Cliente desde\": \"01/02/2020\"}\n"
                   "{broken\n",
                   jsonl);
  EXPECT_EQ(actions(run), (std::vector<std::string>{"created", "failed", "created", "failed"}));
  EXPECT_EQ(run.rows[1].errors[0].message, "line 2 is not a JSON object");
  EXPECT_EQ(run.rows[3].errors[0].message, "line 4: the line is not JSON");
  Json ana = h.records().get(ctx, "contact", run.rows[0].id);
  EXPECT_EQ(ana["account_id"], agro);
  Json bia = h.records().get(ctx, "contact", run.rows[2].id);
  EXPECT_EQ(bia["job_title"], "7");
  EXPECT_EQ(bia["attributes"]["cliente_desde"], "2020-02-01");
}

TEST_P(ImportTest, AnAtomicImportWithABadRowWritesNothing) {
  ImportOptions atomic = windows_1252(2);
  atomic.atomic = true;
  Run run = import(sheet, atomic);
  EXPECT_FALSE(run.report.written);
  EXPECT_EQ(run.report.failed, 2u);
  EXPECT_EQ(contacts(), 0);
  EXPECT_EQ(audited(run.report.import_id), 0);
  Run good = import("Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\nBia;bia@x.com.br;;;\n", atomic);
  EXPECT_TRUE(good.report.written);
  EXPECT_EQ(contacts(), 1);
}

TEST_P(ImportTest, WhatCannotBeImportedIsRefusedBeforeAnythingIsWritten) {
  auto refused = [&](const std::string& csv, const Json& mapping, ImportOptions options = windows_1252()) {
    try {
      import(csv, options, mapping);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(refused("Nome;Telefone\nAna;1\n", contacts_mapping()), "the file lacks columns the mapping names");
  Json bad_key = contacts_mapping();
  bad_key["key"] = "name";
  EXPECT_EQ(refused(sheet, bad_key), "a contact import's key can only be email");
  EXPECT_EQ(refused("Nome;E-mail\n\"aberto\n", {{"entity", "contact"}, {"columns", {{"Nome", "name"}}}}),
            "CSV line 2: a quoted field opened on line 2 never closes");
  EXPECT_EQ(contacts(), 0);

  // Another tenant's account, with the CNPJ and an e-mail key this file names, is not found.
  std::string other = h.create_tenant("Outra Distribuidora");
  CallContext there = h.context(other);
  h.records().create(there, "account", {{"legal_name", "Vizinha"}, {"tax_id", "45.723.174/0001-10"}});
  h.records().create(there, "contact", {{"name", "Ana"}, {"email", "ana@vizinha.com.br"}});
  Run fenced = import("Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\n"
                      "Ana;ana@vizinha.com.br;;45.723.174/0001-10;\nBia;bia@vizinha.com.br;;;\n",
                      windows_1252());
  EXPECT_EQ(actions(fenced), (std::vector<std::string>{"failed", "created"}));
  EXPECT_EQ(fenced.rows[0].errors[0].message, "no account has tax_id 45723174000110");
  Run keyed = import("Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\nAna;ana@vizinha.com.br;;;\n", windows_1252());
  EXPECT_EQ(actions(keyed), std::vector<std::string>{"created"}) << "the other tenant's contact is no match";
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts WHERE tenant_id = '" + other + "' AND version = 1"), 1)
      << "and is left as it was";

  // The job's options are checked before the file is stored.
  for (const Json& options : {Json{{"delimiter", 5}}, Json{{"delimiter", ";;"}}, Json{{"format", "xml"}},
                              Json{{"atomic", "yes"}}, Json{{"encodng", "utf-8"}}}) {
    try {
      ImportJobService(h.deps()).create(ctx, contacts_mapping(), options, "f.csv", "Nome\nAna\n");
      ADD_FAILURE() << "accepted " << options;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << options;
      ASSERT_EQ(e.fields().size(), 1u) << options;
      EXPECT_EQ(e.fields()[0].field, options.begin().key());
    }
  }
  EXPECT_EQ(h.count("SELECT count(*) FROM imports"), 0);

  auto sales = std::make_shared<Principal>();
  sales->role = "sales";
  ctx.principal = sales;
  try {
    import(sheet, windows_1252());
    ADD_FAILURE() << "a sales key imported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
  }
}

// Another CRM's deals keep their history (ADR 0045): when each was opened, the stages it
// passed through and when, so what is learned from the past (issue #33) sees the past;
// the account is found by its name. Dates in the future, or out of order, fail their row.
TEST_P(ImportTest, DealsKeepTheHistoryTheOtherSystemRecorded) {
  auto records = h.records();
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Vendas"}}).record["id"];
  auto stage = [&](const char* name, int position, const char* kind) -> std::string {
    return records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", name}, {"position", position}, {"kind", kind}})
        .record["id"];
  };
  std::string visit = stage("Visita", 1, "open"), proposal = stage("Proposta", 2, "open"), won = stage("Ganho", 3, "won"),
              lost = stage("Perdido", 4, "lost");
  Json mapping = {{"entity", "deal"},
                  {"columns",
                   {{"Negócio", "name"},
                    {"Conta", {{"field", "account_id"}, {"lookup", {{"entity", "account"}, {"by", "legal_name"}}}}},
                    {"Aberto em", {{"field", "created_at"}, {"date", "dd/MM/yyyy"}}},
                    {"Proposta em", {{"field", "stage_entered." + proposal}, {"date", "dd/MM/yyyy"}}},
                    {"Estágio", "stage_id"},
                    {"Desde", {{"field", "stage_entered_at"}, {"date", "dd/MM/yyyy"}}},
                    {"Motivo", "lost_reason"}}},
                  {"constants", {{"pipeline_id", pipeline}}},
                  {"time_zone", "America/Sao_Paulo"}};
  std::string csv = "Negócio;Conta;Aberto em;Proposta em;Estágio;Desde;Motivo\n"
                    "Safra 2016;Agro Sul;20/10/2016;02/11/2016;" + won + ";01/03/2017;\n"
                    "Perdido no preço;Agro Sul;;05/01/2017;" + lost + ";20/02/2017;preço\n"
                    "Novo;Agro Sul;;;" + visit + ";;\n"
                    "Do futuro;Agro Sul;;;" + won + ";01/01/2999;\n"
                    "Aberto depois;Agro Sul;10/01/2017;05/01/2017;" + proposal + ";;\n"
                    "Sem estágio atual;Agro Sul;;05/01/2017;" + won + ";;\n"
                    "Conta errada;Agro Norte;;;" + visit + ";;\n";
  Run run = import(csv, {}, mapping);
  EXPECT_EQ(actions(run), (std::vector<std::string>{"created", "created", "created", "failed", "failed", "failed", "failed"}));
  auto history = [&](const std::string& deal) {
    std::vector<std::string> stays;
    h.database().read(h.tenant, [&](store::Transaction& tx) {
      store::query(tx.session(),
                   "SELECT stage_id, entered_at, left_at FROM deal_stage_history WHERE deal_id = :p0 ORDER BY entered_at",
                   {deal}, [&](const store::Row& r) {
                     auto left = store::integer_at(r, 2);
                     stays.push_back(store::required_text(r, 0) + " " +
                                     format_rfc3339(Timestamp{store::required_integer(r, 1)}) + " " +
                                     (left ? format_rfc3339(Timestamp{*left}) : std::string("-")));
                   });
    });
    return stays;
  };

  Json season = records.get(ctx, "deal", run.rows[0].id);
  EXPECT_EQ(season["account_id"], agro) << "found by its name";
  EXPECT_EQ(season["created_at"], "2016-10-20T02:00:00Z") << "midnight in São Paulo, on summer time then (UTC-2)";
  EXPECT_EQ(season["stage_entered_at"], "2017-03-01T03:00:00Z");
  EXPECT_EQ(season["status"], "won");
  EXPECT_EQ(history(run.rows[0].id), (std::vector<std::string>{proposal + " 2016-11-02T02:00:00Z 2017-03-01T03:00:00Z",
                                                               won + " 2017-03-01T03:00:00Z -"}));
  Json priced = records.get(ctx, "deal", run.rows[1].id);
  EXPECT_EQ(priced["created_at"], "2017-01-05T02:00:00Z") << "opened when it entered its first known stage";
  EXPECT_EQ(priced["updated_at"], format_rfc3339(h.clock.now())) << "the import's own time stays the record's last change";
  EXPECT_EQ(history(run.rows[1].id).size(), 2u);
  Json fresh = records.get(ctx, "deal", run.rows[2].id);
  EXPECT_EQ(fresh["created_at"], format_rfc3339(h.clock.now())) << "no history: it starts now";
  EXPECT_EQ(history(run.rows[2].id), std::vector<std::string>{visit + " " + format_rfc3339(h.clock.now()) + " -"});

  auto error_of = [&](std::size_t row) { return run.rows[row].errors.at(0).field + ": " + run.rows[row].errors.at(0).message; };
  EXPECT_EQ(error_of(3), "stage_entered_at: is in the future: history is what already happened");
  EXPECT_EQ(error_of(4), "created_at: is after the deal entered stage " + proposal + " (2017-01-05T02:00:00Z)");
  EXPECT_EQ(error_of(5), "stage_entered_at: is needed with earlier stages' dates: when the deal entered stage " + won);
  EXPECT_EQ(error_of(6), "account_id: no account has legal_name Agro Norte");
  EXPECT_EQ(h.count("SELECT count(*) FROM deals WHERE tenant_id = '" + h.tenant + "'"), 3);
  EXPECT_EQ(h.count("SELECT count(*) FROM deal_stage_history WHERE tenant_id = '" + h.tenant + "'"), 5) << "nothing half-written";
  EXPECT_EQ(audited(run.report.import_id), 3);

  // History is read from columns only, and only where the entity has it.
  for (const Json& bad : {Json{{"entity", "deal"}, {"columns", {{"Negócio", "name"}}}, {"constants", {{"created_at", "2016-01-01T00:00:00Z"}}}},
                          Json{{"entity", "contact"}, {"columns", {{"Nome", "name"}, {"Desde", "stage_entered_at"}}}},
                          Json{{"entity", "deal"}, {"columns", {{"Conta", {{"field", "account_id"}, {"lookup", {{"entity", "contact"}, {"by", "legal_name"}}}}}}}}}) {
    try {
      ImportMapping::parse(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << bad;
    }
  }
}

// An import whose runs keep failing for a reason other than its file (here a format's
// parser that cannot reach what it needs) is given up after max_runs runs, naming the last
// error, and the import queued behind it runs.
TEST_P(ImportTest, AnImportThatKeepsFailingIsGivenUpAndTheQueueMovesOn) {
  h.import_formats.add({"org.nucleo.test", "flaky", "Flaky", {}, contacts_mapping(),
                        [](const CallContext&, const Json&, std::string_view) -> ImportParseStep {
                          throw Error(ErrorCode::unavailable, "the parser lost its registry");
                        },
                        nullptr});
  ImportJobService jobs(h.deps());
  std::string flaky = jobs.create(ctx, nullptr, {{"format", "flaky"}}, "f.txt", "x")["id"];
  EXPECT_EQ(jobs.get(ctx, flaky)["mapping"], contacts_mapping());  // the format's own, kept
  h.clock.advance_micros(1000);  // queued after it
  std::string next = jobs.create(ctx, contacts_mapping(), Json::object(), "g.csv",
                                 "Nome;E-mail;Cargo;CNPJ da empresa;Cliente desde\nAna;ana@x.com.br;;;\n")["id"];
  std::atomic<bool> stopping{false};
  for (std::int64_t run = 0; run < ImportJobService::max_runs; ++run)
    EXPECT_THROW(jobs.run_one(h.clock, "node-1", std::chrono::seconds(30), stopping), Error);
  EXPECT_EQ(jobs.get(ctx, next)["status"], "queued");  // held up meanwhile
  EXPECT_EQ(jobs.run_one(h.clock, "node-1", std::chrono::seconds(30), stopping), 0u);
  Json given_up = jobs.get(ctx, flaky);
  EXPECT_EQ(given_up["status"], "failed");
  EXPECT_EQ(given_up["error"], "given up after 5 runs that did not finish; the last: the parser lost its registry");
  EXPECT_EQ(jobs.run_one(h.clock, "node-1", std::chrono::seconds(30), stopping), 1u);
  EXPECT_EQ(jobs.get(ctx, next)["status"], "done");
}

INSTANTIATE_TEST_SUITE_P(Backends, ImportTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
