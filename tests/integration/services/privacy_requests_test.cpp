// Data-subject requests on both backends (issue #30, docs/compliance.md "Data-subject
// requests"): the deadline, the order of the steps, the report's contents — hers and
// nobody else's —, its expiring link, and what erasure leaves of a request.
#include <gtest/gtest.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/privacy_requests.hpp"
#include "kernel/services/privacy_service.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

constexpr std::int64_t day = 86'400'000'000;

using test::error_of;

std::string first_field(const Error& e) { return e.fields().empty() ? "" : e.fields()[0].field; }

class PrivacyRequestsTest : public testing::TestWithParam<store::Backend> {
 protected:
  PrivacyRequestsTest() : h(GetParam()), records(h.records()), requests(h.deps()), ctx(h.context(h.tenant)),
                          sequencer(h.deps().worker_database, h.clock) {
    maria = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"email", "maria@example.com"}}).record["id"];
    joao = records.create(ctx, "contact", {{"name", "João Pereira"}, {"email", "joao@example.com"}}).record["id"];
  }

  Json open(const std::string& kind, const std::string& contact) {
    return requests.open(ctx, {{"kind", kind}, {"contact_id", contact}, {"received_via", "e-mail"}});
  }
  Json verified(const std::string& kind, const std::string& contact) {
    Json r = open(kind, contact);
    return requests.verify_identity(ctx, r["id"], {{"method", "document"}, {"reference", "CNH conferida"}});
  }
  // Queues and builds the report as the job would, the audit trail sequenced first.
  Json report_of(const std::string& id) {
    requests.queue_report(ctx, id);
    while (sequencer.run_once() > 0) {
    }
    CallContext job = ctx;
    job.principal = nullptr;
    job.actor = {"system", privacy_report_job_name, ""};
    requests.build_report(job, id);
    return Json::parse(requests.report(ctx, id, "json").body);
  }

  test::ServiceHarness h;
  RecordService records;
  PrivacyRequestService requests;
  CallContext ctx;
  audit::Sequencer sequencer;
  std::string maria, joao;
};

TEST_P(PrivacyRequestsTest, ARequestIsDueAtItsDeadlineAndItsStepsComeInOrder) {
  Timestamp received{h.clock.now().micros - 2 * day};
  Json r = requests.open(ctx, {{"kind", "access"}, {"contact_id", maria}, {"received_via", "formulário"},
                               {"received_at", format_rfc3339(received)}, {"details", "Quer saber o que temos"}});
  EXPECT_EQ(r["status"], "received");
  EXPECT_EQ(r["due_at"], format_rfc3339(Timestamp{received.micros + 15 * day}));
  EXPECT_FALSE(r["overdue"].get<bool>());
  EXPECT_TRUE(r["report"].is_null());
  EXPECT_TRUE(r["identity"].is_null());

  // Bad input names the field.
  auto invalid = [&](const Json& body) { return first_field(error_of([&] { requests.open(ctx, body); })); };
  EXPECT_EQ(invalid({{"kind", "everything"}, {"contact_id", maria}, {"received_via", "e-mail"}}), "kind");
  EXPECT_EQ(invalid({{"kind", "access"}, {"contact_id", "con_nobody"}, {"received_via", "e-mail"}}), "contact_id");
  EXPECT_EQ(invalid({{"kind", "access"}, {"contact_id", maria}}), "received_via");
  EXPECT_EQ(invalid({{"kind", "access"}, {"contact_id", maria}, {"received_via", "e-mail"}, {"urgent", "yes"}}), "urgent");
  EXPECT_EQ(invalid({{"kind", "access"}, {"contact_id", maria}, {"received_via", "e-mail"},
                     {"received_at", format_rfc3339(Timestamp{h.clock.now().micros + day})}}), "received_at");
  EXPECT_EQ(invalid({{"kind", "access"}, {"contact_id", maria}, {"received_via", "e-mail"}, {"assignee_id", "usr_nobody"}}),
            "assignee_id");

  // The steps' order: identity before the report, the report before completion.
  EXPECT_EQ(error_of([&] { requests.queue_report(ctx, r["id"]); }).code(), ErrorCode::conflict);
  EXPECT_EQ(error_of([&] { requests.close(ctx, r["id"], "completed", {{"outcome", "x"}}); }).code(), ErrorCode::conflict);
  Json checked = requests.verify_identity(ctx, r["id"], {{"method", "document"}, {"reference", "RG"}});
  EXPECT_EQ(checked["status"], "in_progress");
  EXPECT_EQ(checked["identity"]["method"], "document");
  EXPECT_EQ(checked["version"], 2);
  EXPECT_EQ(error_of([&] { requests.close(ctx, r["id"], "completed", {{"outcome", "x"}}); }).code(), ErrorCode::conflict);

  // An erasure request is complete only once she is erased; a correction has no report.
  Json erasure = verified("erasure", joao);
  EXPECT_EQ(error_of([&] { requests.queue_report(ctx, erasure["id"]); }).code(), ErrorCode::conflict);
  EXPECT_EQ(error_of([&] { requests.close(ctx, erasure["id"], "completed", {{"outcome", "apagado"}}); }).code(),
            ErrorCode::conflict);
  PrivacyService(h.deps()).erase_contact(ctx, joao, "titular request");
  EXPECT_EQ(requests.close(ctx, erasure["id"], "completed", {{"outcome", "apagado"}})["status"], "completed");
  Json rejected = requests.close(ctx, open("correction", maria)["id"], "rejected", {{"outcome", "identidade não confirmada"}});
  EXPECT_EQ(rejected["status"], "rejected");
  EXPECT_EQ(error_of([&] { requests.close(ctx, rejected["id"], "rejected", {{"outcome", "x"}}); }).code(), ErrorCode::conflict);

  // Open ones only, and overdue once the deadline passes.
  EXPECT_EQ(requests.list(ctx, "open", "", 50).size(), 1u);
  EXPECT_EQ(requests.list(ctx, "", maria, 50).size(), 2u);
  EXPECT_EQ(error_of([&] { requests.list(ctx, "lost", "", 50); }).code(), ErrorCode::validation);
  h.clock.advance_micros(14 * day);
  EXPECT_TRUE(requests.get(ctx, r["id"])["overdue"].get<bool>());

  // Only the admin handles requests; the auditor reads them; another tenant sees none.
  CallContext auditor = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "auditor";
  auditor.principal = principal;
  EXPECT_EQ(requests.get(auditor, r["id"])["id"], r["id"]);
  EXPECT_EQ(error_of([&] { requests.verify_identity(auditor, r["id"], {{"method", "a"}, {"reference", "b"}}); }).code(),
            ErrorCode::forbidden);
  CallContext other = h.context(h.create_tenant("Outra"));
  EXPECT_EQ(error_of([&] { requests.get(other, r["id"]); }).code(), ErrorCode::not_found);
}

TEST_P(PrivacyRequestsTest, TheReportHoldsHersAndNothingOfAnyoneElseAndItsLinkExpires) {
  std::string account = records.create(ctx, "account", {{"legal_name", "Cooperativa Boa Safra"}}).record["id"];
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Vendas"}}).record["id"];
  records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Nova"}, {"position", 0}});
  records.create(ctx, "deal", {{"name", "Sementes 2027"}, {"account_id", account}, {"pipeline_id", pipeline},
                               {"contacts", {{{"contact_id", maria}, {"role", "decisora"}}}}});
  records.create(ctx, "deal", {{"name", "Adubo do João"}, {"account_id", account}, {"pipeline_id", pipeline},
                               {"contacts", {{{"contact_id", joao}}}}});
  records.create(ctx, "interaction", {{"type", "email"}, {"direction", "inbound"}, {"contact_id", maria},
                                      {"subject", "Pedido de dados"}, {"body", "Olá, sou a Maria"}});
  records.create(ctx, "interaction", {{"type", "email"}, {"direction", "inbound"}, {"contact_id", joao},
                                      {"body", "Mensagem do João"}});
  ConsentService consents(h.deps());
  consents.define_purpose(ctx, "newsletter", {{"description", "boletim"}});
  consents.record(ctx, maria, {{"purpose", "newsletter"}, {"action", "grant"}, {"legal_basis", "consent"}, {"notice", "v1"}});
  CallContext other = h.context(h.create_tenant("Outra"));
  records.create(other, "contact", {{"name", "Maria Souza de Outra"}, {"email", "maria@example.com"}});

  Json r = verified("access", maria);
  Json bundle = report_of(r["id"]);
  std::string text = bundle.dump();
  EXPECT_EQ(bundle["contact"]["name"], "Maria Souza");
  ASSERT_EQ(bundle["deals"].size(), 1u);
  EXPECT_EQ(bundle["deals"][0]["name"], "Sementes 2027");
  ASSERT_EQ(bundle["interactions"].size(), 1u);
  EXPECT_EQ(bundle["interactions"][0]["body"], "Olá, sou a Maria");
  EXPECT_EQ(bundle["consents"]["entries"].size(), 1u);
  ASSERT_EQ(bundle["privacy_requests"].size(), 1u);
  EXPECT_EQ(bundle["history"]["interaction/" + bundle["interactions"][0]["id"].get<std::string>()][0]["changes"]["body"]["to"],
            "Olá, sou a Maria");  // opened: her key exists
  for (const char* others : {"João", "joao@example.com", "Adubo", "de Outra"}) EXPECT_EQ(text.find(others), std::string::npos) << others;
  EXPECT_TRUE(bundle["audit"]["checkpoint"].is_null());  // no key signs checkpoints here
  Json state = requests.get(ctx, r["id"])["report"];
  EXPECT_EQ(state["status"], "ready");
  EXPECT_EQ(state["digest"].get<std::string>().size(), 64u);
  std::string markdown = requests.report(ctx, r["id"], "markdown").body;
  EXPECT_NE(markdown.find("Sementes 2027"), std::string::npos);
  EXPECT_EQ(markdown.find("João"), std::string::npos);

  // The link works for privacy.report_link_hours, for this request only.
  Json link = requests.download_link(ctx, r["id"]);
  std::string token = link["path"].get<std::string>().substr(std::string("/v1/privacy/reports/").size());
  EXPECT_EQ(requests.download(ctx, token, "json").body, requests.report(ctx, r["id"], "json").body);
  std::string forged = token;
  forged.replace(forged.find(r["id"].get<std::string>()), r["id"].get<std::string>().size(),
                 verified("access", joao)["id"].get<std::string>());
  EXPECT_EQ(error_of([&] { requests.download(ctx, forged, "json"); }).code(), ErrorCode::not_found);
  h.clock.advance_micros(72LL * 3'600'000'000);
  Error expired = error_of([&] { requests.download(ctx, token, "json"); });
  EXPECT_EQ(expired.code(), ErrorCode::not_found);
  EXPECT_NE(std::string(expired.what()).find("expired"), std::string::npos) << expired.what();
}

TEST_P(PrivacyRequestsTest, ErasureTakesHerReportsAndWordsAndANewReportSaysWhatRemains) {
  records.create(ctx, "interaction", {{"type", "note"}, {"direction", "inbound"}, {"contact_id", maria}, {"body", "Olá"}});
  Json first = requests.open(ctx, {{"kind", "access"}, {"contact_id", maria}, {"received_via", "e-mail"},
                                   {"details", "Maria pediu pelo e-mail maria@example.com"}});
  requests.verify_identity(ctx, first["id"], {{"method", "document"}, {"reference", "CPF 123.456.789-09"}});
  report_of(first["id"]);

  ErasureReport erased = PrivacyService(h.deps()).erase_contact(ctx, maria, "titular request");
  EXPECT_EQ(erased.privacy_reports_deleted, 1u);
  Json kept = requests.get(ctx, first["id"]);
  EXPECT_TRUE(kept["details"].is_null());
  EXPECT_TRUE(kept["identity"]["reference"].is_null());
  EXPECT_EQ(kept["identity"]["method"], "document");
  EXPECT_TRUE(kept["report"].is_null());
  EXPECT_EQ(error_of([&] { requests.report(ctx, first["id"], "json"); }).code(), ErrorCode::not_found);

  Json second = verified("access", maria);
  Json bundle = report_of(second["id"]);
  EXPECT_TRUE(bundle["subject"]["erased"].get<bool>());
  EXPECT_NE(bundle["subject"]["note"].get<std::string>().find("erased"), std::string::npos);
  EXPECT_EQ(bundle.dump().find("Maria Souza"), std::string::npos);
  EXPECT_EQ(bundle.dump().find("maria@example.com"), std::string::npos);
  EXPECT_FALSE(bundle["history"]["contact/" + maria].empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyRequestsTest,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         [](const auto& info) { return std::string(store::to_string(info.param)); });

}  // namespace
}  // namespace nucleo::services
