// The services on both backends: what each write leaves behind (the record, one audit
// event, one outbox event), and what a refused write leaves behind (nothing).
#include "kernel/services/record_service.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/services/api_key_service.hpp"
#include "kernel/services/plugin_record_service.hpp"

#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class RecordServiceTest : public testing::TestWithParam<store::Backend> {
 protected:
  RecordServiceTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {}

  // Events of this tenant's records (the tenant's own creation event is left out).
  int audit_rows() {
    return h.count("SELECT count(*) FROM audit_pending WHERE tenant_id = '" + h.tenant +
                   "' AND entity_type <> 'tenant'");
  }
  int outbox_rows() {
    return h.count("SELECT count(*) FROM outbox WHERE tenant_id = '" + h.tenant + "' AND entity_type <> 'tenant'");
  }
  Json pipeline_with_stages() {
    Json pipeline = records.create(ctx, "pipeline", {{"name", "Sales"}}).record;
    std::string id = pipeline["id"];
    stage_new = records.create(ctx, "stage", {{"pipeline_id", id}, {"name", "New"}, {"position", 0}}).record["id"];
    stage_won = records.create(ctx, "stage", {{"pipeline_id", id}, {"name", "Won"}, {"position", 9}, {"kind", "won"}})
                    .record["id"];
    stage_lost =
        records.create(ctx, "stage", {{"pipeline_id", id}, {"name", "Lost"}, {"position", 10}, {"kind", "lost"}})
            .record["id"];
    return pipeline;
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
  std::string stage_new, stage_won, stage_lost;
};

// What a plugin writes reaches the services past the HTTP layer's check: a NUL character
// (which PostgreSQL's text and jsonb cannot store, so it failed as `internal`) is refused
// naming its field, on both backends, and nothing is written — a record, a plugin's
// document or a query of its records.
TEST_P(RecordServiceTest, ANulCharacterAPluginHandsOverIsRefusedNamingItsField) {
  using namespace std::string_literals;
  auto refused_field = [](const std::function<void()>& write) {
    try {
      write();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << e.what();
      return e.fields().empty() ? std::string("?") : e.fields().front().field;
    }
    return std::string();
  };
  EXPECT_EQ(refused_field([&] { records.create(ctx, "contact", {{"name", "Ana\0Lima"s}}); }), "name");
  std::map<std::string, CollectionSpec> collections{{"notes", {{{"code", "string"}}, nullptr, std::nullopt, ""}}};
  PluginRecordService notes(h.deps(), "com.example.notes", collections);
  EXPECT_EQ(refused_field([&] { notes.put(ctx, "notes", "n1", {{"code", "A1"}, {"text", {"ok", "x\0y"s}}}); }), "text[1]");
  EXPECT_EQ(refused_field([&] { notes.query(ctx, "notes", {{"where", {{"code", {{"eq", "A\0"s}}}}}}); }), "where.code.eq");
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts WHERE tenant_id = '" + h.tenant + "'"), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM plugin_records"), 0);
}

TEST_P(RecordServiceTest, CreateLeavesTheRecordOneAuditEventAndOneOutboxEvent) {
  auto result =
      records.create(ctx, "account", {{"legal_name", "Fazenda Boa Vista Ltda"}, {"tax_id", "11.222.333/0001-81"}});
  EXPECT_TRUE(is_valid_id(result.record["id"].get<std::string>(), "acc"));
  EXPECT_EQ(result.record["tax_id"], "11222333000181");
  EXPECT_EQ(result.record["tax_id_kind"], "cnpj");
  EXPECT_EQ(result.record["version"], 1);
  EXPECT_EQ(result.record["lifecycle"], "lead");
  EXPECT_EQ(result.record["created_at"], "2026-07-01T00:00:00Z");
  EXPECT_EQ(audit_rows(), 1);
  EXPECT_EQ(outbox_rows(), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'account.created' AND entity_id = '" +
                    result.record["id"].get<std::string>() + "' AND actor_id = 'key_test' AND request_id = 'req_test'"),
            1);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'account.created'"), 1);
  EXPECT_EQ(records.get(ctx, "account", result.record["id"]), result.record);
}

TEST_P(RecordServiceTest, UpdateRecordsFieldLevelChangesAndBumpsTheVersion) {
  std::string id = records.create(ctx, "account", {{"legal_name", "Old Name"}}).record["id"];
  h.clock.advance_micros(1'000'000);
  auto updated = records.update(ctx, "account", id, {{"legal_name", "New Name"}, {"lifecycle", "customer"}}, 1);
  EXPECT_EQ(updated.record["version"], 2);
  EXPECT_EQ(updated.record["updated_at"], "2026-07-01T00:00:01Z");
  EXPECT_EQ(audit_rows(), 2);
  EXPECT_EQ(outbox_rows(), 2);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'account.updated'"), 1);
  // the event names exactly the two changed fields, each with from and to
  auto changes = h.json_column("SELECT changes FROM audit_pending WHERE action = 'account.updated'");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], (Json{{"legal_name", {{"from", "Old Name"}, {"to", "New Name"}}},
                              {"lifecycle", {{"from", "lead"}, {"to", "customer"}}}}));
}

TEST_P(RecordServiceTest, NoOpUpdateWritesNothing) {
  std::string id = records.create(ctx, "account", {{"legal_name", "Same"}}).record["id"];
  auto same = records.update(ctx, "account", id, {{"legal_name", "Same"}});
  EXPECT_EQ(same.record["version"], 1);
  EXPECT_EQ(audit_rows(), 1);
  EXPECT_EQ(outbox_rows(), 1);
}

TEST_P(RecordServiceTest, InvalidInputNamesEveryFieldAndWritesNothing) {
  try {
    records.create(ctx, "contact", {{"email", "not-an-email"}, {"phone", "123"}, {"id", "con_x"}, {"shoe_size", 42}});
    FAIL() << "accepted invalid contact";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    std::set<std::string> fields;
    for (const auto& f : e.fields()) fields.insert(f.field);
    EXPECT_EQ(fields, (std::set<std::string>{"email", "phone", "id", "shoe_size", "name"}));
  }
  EXPECT_EQ(audit_rows(), 0);
  EXPECT_EQ(outbox_rows(), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts"), 0);
}

TEST_P(RecordServiceTest, VetoedWriteLeavesNothing) {
  h.validators.add("no-competitors", "account", [](const ValidationRequest& r) -> std::vector<FieldError> {
    if (r.after.value("legal_name", "") == "Competitor SA") return {{"legal_name", "we do not sell to competitors"}};
    return {};
  });
  try {
    records.create(ctx, "account", {{"legal_name", "Competitor SA"}});
    FAIL() << "veto ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].message, "we do not sell to competitors");
    EXPECT_NE(std::string(e.what()).find("no-competitors"), std::string::npos);
  }
  EXPECT_EQ(audit_rows(), 0);
  EXPECT_EQ(outbox_rows(), 0);
  EXPECT_EQ(h.count("SELECT count(*) FROM accounts"), 0);
  EXPECT_NO_THROW(records.create(ctx, "account", {{"legal_name", "Customer SA"}}));
}

TEST_P(RecordServiceTest, ValidatorThatThrowsVetoes) {
  h.validators.add("broken", "*",
                   [](const ValidationRequest&) -> std::vector<FieldError> { throw std::runtime_error("boom"); });
  EXPECT_THROW(records.create(ctx, "product", {{"name", "Seed"}}), Error);
  EXPECT_EQ(h.count("SELECT count(*) FROM products"), 0);
}

TEST_P(RecordServiceTest, StaleVersionIsRefused) {
  std::string id = records.create(ctx, "account", {{"legal_name", "Acme"}}).record["id"];
  records.update(ctx, "account", id, {{"legal_name", "Acme 2"}}, 1);
  try {
    records.update(ctx, "account", id, {{"legal_name", "Acme 3"}}, 1);
    FAIL() << "stale version accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::precondition_failed);
  }
  EXPECT_EQ(records.get(ctx, "account", id)["legal_name"], "Acme 2");
  EXPECT_EQ(audit_rows(), 2);
}

TEST_P(RecordServiceTest, SameTaxIdIsAConflictNamingTheExistingAccount) {
  std::string first =
      records.create(ctx, "account", {{"legal_name", "A"}, {"tax_id", "12.ABC.345/01DE-35"}}).record["id"];
  try {
    records.create(ctx, "account", {{"legal_name", "B"}, {"tax_id", "12abc34501de35"}});
    FAIL() << "duplicate tax id accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_NE(std::string(e.what()).find(first), std::string::npos);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "tax_id");
  }
  EXPECT_EQ(audit_rows(), 1);
  // Archiving frees the tax id; restoring the first while a second holds it conflicts.
  records.archive(ctx, "account", first);
  std::string second = records.create(ctx, "account", {{"legal_name", "B"}, {"tax_id", "12ABC34501DE35"}}).record["id"];
  EXPECT_THROW(records.restore(ctx, "account", first), Error);
  EXPECT_FALSE(second.empty());
}

TEST_P(RecordServiceTest, SameEmailOrPhoneIsSavedAndReportedAsDuplicate) {
  std::string account =
      records.create(ctx, "account", {{"legal_name", "Agro SA"}, {"phones", {"+55 11 98765-4321"}}}).record["id"];
  // The old eight-digit form of the same Brazilian mobile is the same number.
  auto contact = records.create(ctx, "contact", {{"name", "João"}, {"phone", "(11) 8765-4321"}, {"email", "J@X.COM"}});
  EXPECT_EQ(contact.record["phone"], "+5511987654321");
  EXPECT_EQ(contact.record["email"], "j@x.com");
  ASSERT_EQ(contact.duplicates.size(), 1u);
  EXPECT_EQ(contact.duplicates[0]["id"], account);
  EXPECT_EQ(contact.duplicates[0]["entity_type"], "account");
  EXPECT_EQ(contact.duplicates[0]["field"], "phone");

  auto twin = records.create(ctx, "contact", {{"name", "Maria"}, {"email", "j@x.com"}});
  ASSERT_EQ(twin.duplicates.size(), 1u);
  EXPECT_EQ(twin.duplicates[0]["id"], contact.record["id"]);
  EXPECT_EQ(h.count("SELECT count(*) FROM contacts"), 2);
}

TEST_P(RecordServiceTest, ReferencesMustBeLiveRecordsOfTheSameTenant) {
  std::string other_tenant = h.create_tenant("Other");
  auto other_ctx = h.context(other_tenant);
  std::string foreign = records.create(other_ctx, "account", {{"legal_name", "Theirs"}}).record["id"];
  try {
    records.create(ctx, "contact", {{"name", "Spy"}, {"account_id", foreign}});
    FAIL() << "cross-tenant reference accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation);
    EXPECT_EQ(e.fields()[0].field, "account_id");
  }
  EXPECT_THROW(records.get(ctx, "account", foreign), Error);  // not found across tenants
  EXPECT_EQ(records.list(ctx, "account", {}).size(), 0u);
}

TEST_P(RecordServiceTest, DealStartsInTheFirstStageAndMovesWithHistory) {
  Json pipeline = pipeline_with_stages();
  std::string account = records.create(ctx, "account", {{"legal_name", "Buyer"}}).record["id"];
  auto deal =
      records
          .create(
              ctx, "deal",
              {{"name", "Safra 2027"}, {"account_id", account}, {"pipeline_id", pipeline["id"]}, {"amount", 150000000}})
          .record;
  EXPECT_EQ(deal["stage_id"], stage_new);
  EXPECT_EQ(deal["status"], "open");
  EXPECT_EQ(deal["currency"], "BRL");
  EXPECT_EQ(h.count("SELECT count(*) FROM deal_stage_history WHERE left_at IS NULL"), 1);

  h.clock.advance_micros(3'600'000'000);
  auto won = records.move_deal_stage(ctx, deal["id"], stage_won, 1).record;
  EXPECT_EQ(won["status"], "won");
  EXPECT_EQ(won["stage_entered_at"], "2026-07-01T01:00:00Z");
  EXPECT_EQ(h.count("SELECT count(*) FROM deal_stage_history"), 2);
  EXPECT_EQ(h.count("SELECT count(*) FROM deal_stage_history WHERE left_at IS NULL AND stage_id = '" + stage_won + "'"),
            1);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'deal.stage_changed'"), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'deal.stage_changed'"), 1);
}

TEST_P(RecordServiceTest, LostNeedsAReasonAndStagesStayInTheirPipeline) {
  Json pipeline = pipeline_with_stages();
  std::string other_pipeline = records.create(ctx, "pipeline", {{"name", "Renewals"}}).record["id"];
  std::string foreign_stage =
      records.create(ctx, "stage", {{"pipeline_id", other_pipeline}, {"name", "X"}, {"position", 0}}).record["id"];
  std::string account = records.create(ctx, "account", {{"legal_name", "Buyer"}}).record["id"];
  std::string deal =
      records.create(ctx, "deal", {{"name", "D"}, {"account_id", account}, {"pipeline_id", pipeline["id"]}})
          .record["id"];
  int before = audit_rows();
  EXPECT_THROW(records.move_deal_stage(ctx, deal, stage_lost), Error);
  EXPECT_THROW(records.move_deal_stage(ctx, deal, foreign_stage), Error);
  EXPECT_EQ(audit_rows(), before);
  auto lost = records.move_deal_stage(ctx, deal, stage_lost, std::nullopt, "price").record;
  EXPECT_EQ(lost["status"], "lost");
  EXPECT_EQ(lost["lost_reason"], "price");
}

TEST_P(RecordServiceTest, InteractionsAreLoggedOncePerExternalId) {
  std::string contact = records.create(ctx, "contact", {{"name", "Ana"}}).record["id"];
  Json message = {{"type", "whatsapp"},       {"direction", "inbound"}, {"channel", "whatsapp"},
                  {"external_id", "wamid.1"}, {"body", "Olá"},          {"contact_id", contact}};
  auto logged = records.log_interaction(ctx, message).record;
  EXPECT_EQ(logged["occurred_at"], "2026-07-01T00:00:00Z");
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'interaction.logged'"), 1);
  try {
    records.log_interaction(ctx, message);
    FAIL() << "same external id recorded twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_NE(std::string(e.what()).find(logged["id"].get<std::string>()), std::string::npos);
  }
  message["channel"] = "sms";  // unique per channel, not across channels
  EXPECT_NO_THROW(records.log_interaction(ctx, message));
}

TEST_P(RecordServiceTest, CompletingATaskTimesIt) {
  std::string task =
      records.create(ctx, "task", {{"title", "Call back"}, {"due_at", "2026-07-02T12:00:00-03:00"}}).record["id"];
  EXPECT_EQ(records.get(ctx, "task", task)["due_at"], "2026-07-02T15:00:00Z");
  h.clock.advance_micros(60'000'000);
  auto done = records.complete_task(ctx, task).record;
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["completed_at"], "2026-07-01T00:01:00Z");
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'task.completed'"), 1);
}

TEST_P(RecordServiceTest, PersonalDataFieldsAreFlaggedInTheAuditEvent) {
  records.create(ctx, "contact", {{"name", "Ana"}, {"email", "ana@x.com"}, {"job_title", "CFO"}});
  auto flagged = h.json_column("SELECT personal_fields FROM audit_pending WHERE action = 'contact.created'");
  ASSERT_EQ(flagged.size(), 1u);
  // A job title beside a name identifies her: personal too (issue #17).
  EXPECT_EQ(flagged[0], Json::array({"name", "email", "job_title"}));
}

TEST_P(RecordServiceTest, ArchivedRecordsHideFromListsRefuseChangesAndRestore) {
  std::string id = records
                       .create(ctx, "product",
                               {{
                                    "name",
                                    "Seed",
                                },
                                {"price", 1999}})
                       .record["id"];
  records.archive(ctx, "product", id);
  EXPECT_EQ(records.list(ctx, "product", {}).size(), 0u);
  EXPECT_THROW(records.update(ctx, "product", id, {{"price", 2999}}), Error);
  auto restored = records.restore(ctx, "product", id).record;
  EXPECT_TRUE(restored["archived_at"].is_null());
  EXPECT_EQ(records.list(ctx, "product", {}).size(), 1u);
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action IN ('product.archived', 'product.restored')"), 2);
}

TEST_P(RecordServiceTest, ListPagesByIdWithFilters) {
  std::string account = records.create(ctx, "account", {{"legal_name", "A"}}).record["id"];
  for (int i = 0; i < 5; ++i) {
    h.clock.advance_micros(1000);
    records.create(ctx, "contact", {{"name", "C" + std::to_string(i)}, {"account_id", account}});
  }
  records.create(ctx, "contact", {{"name", "Loose"}});
  auto first = records.list(ctx, "contact", {{{"account_id", account}}, "", 3, false});
  ASSERT_EQ(first.size(), 3u);
  auto rest = records.list(ctx, "contact", {{{"account_id", account}}, first.back()["id"], 3, false});
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_LT(first.back()["id"].get<std::string>(), rest.front()["id"].get<std::string>());
  EXPECT_THROW(records.list(ctx, "contact", {{{"name; DROP TABLE contacts", 1}}, "", 3, false}), Error);
}

// List and search pages skip the Json tree and render rows to text: the text must be
// what the Json path (visible_record, then the response writer) gave, byte for byte.
TEST_P(RecordServiceTest, RenderedPagesAreTheBytesTheJsonPathWrites) {
  records.create(ctx, "account",
                 {{"legal_name", "Sementes \"João\" Ltda\n\u0001"},
                  {"attributes", {{"safra", "2026/27"}, {"hectares", 120}, {"nested", {{"a", {1, 2}}}}}},
                  {"emails", {"compras@joao.example"}}});
  records.create(ctx, "account", {{"legal_name", "Plain"}});
  pipeline_with_stages();
  std::string user =
      records.create(ctx, "user", {{"name", "Ana"}, {"email", "ana@x.com"}, {"role", "sales"}}).record["id"];
  ApiKeyService(h.deps()).create(ctx, {{"name", "sync"}, {"role", "sales"}, {"user_id", user}});
  for (const char* type : {"account", "pipeline", "stage", "user", "api_key"}) {
    auto expected = records.list(ctx, type, {{}, "", 50, false});
    auto rendered = records.list_rendered(ctx, type, {{}, "", 50, false});
    ASSERT_EQ(rendered.size(), expected.size()) << type;
    ASSERT_FALSE(rendered.empty()) << type;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(rendered[i].json, to_json_text(expected[i])) << type;
      EXPECT_EQ(rendered[i].id, expected[i]["id"]) << type;
    }
  }
  EXPECT_EQ(records.list_rendered(ctx, "api_key", {{}, "", 50, false}).front().json.find("secret_hash"),
            std::string::npos);
  auto found = records.search(ctx, "account",
                              {{"sort", Json::array({{{"field", "legal_name"}, {"direction", "desc"}}})}, {"limit", 1}},
                              Json());
  Json sementes;  // sorts after "Plain"
  for (const auto& a : records.list(ctx, "account", {{}, "", 50, false}))
    if (a["legal_name"].get<std::string>().rfind("Sementes", 0) == 0) sementes = a;
  ASSERT_EQ(found.records.size(), 1u);
  EXPECT_EQ(found.records[0], to_json_text(sementes));
  EXPECT_EQ(found.next, Json::array({sementes["legal_name"], sementes["id"]}));
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordServiceTest,
                         testing::Values(store::Backend::sqlite, store::Backend::postgresql), test::BackendName());

}  // namespace
}  // namespace nucleo::services
