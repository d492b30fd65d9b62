// Issue #24, duplicates: candidate pairs found with why (the same e-mail, phone or CNPJ
// root; names alike within an account), and a merge that moves every dependent record to
// the survivor — deals, interactions, tasks, conversations, contacts, attributes — archives
// the others with merged_into, and leaves the audit history of both readable. A record of
// another tenant is not found; nothing is half-merged. Both backends.
#include "kernel/services/merge_service.hpp"

#include <gtest/gtest.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/duplicate_finder.hpp"
#include "kernel/services/principal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class MergeTest : public testing::TestWithParam<store::Backend> {
 protected:
  MergeTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)), sequencer(h.deps().worker_database, h.clock) {
    std::string pipeline = records.create(ctx, "pipeline", {{"name", "Vendas"}}).record["id"];
    records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Novo"}, {"position", 0}});
    pipeline_id = pipeline;
    account = create("account", {{"legal_name", "Hospital Santa Clara"}});
  }

  std::string create(const std::string& type, const Json& fields) { return records.create(ctx, type, fields).record["id"]; }
  Json get(const std::string& type, const std::string& id) { return records.get(ctx, type, id); }
  std::string deal(const std::string& account_id, const Json& committee) {
    return create("deal", {{"name", "Renovação"}, {"account_id", account_id}, {"pipeline_id", pipeline_id},
                           {"contacts", committee}});
  }
  std::string interaction(const Json& on) {
    Json fields = {{"type", "call"}, {"direction", "outbound"}, {"body", "Ligação"}};
    fields.update(on);
    return create("interaction", fields);
  }
  int audited(const std::string& action, const std::string& request_id) {
    return h.count("SELECT count(*) FROM audit_pending WHERE action = '" + action + "' AND request_id = '" + request_id + "'");
  }
  Error refusal(const std::string& type, const std::string& survivor, const Json& body, const CallContext& as) {
    try {
      MergeService(h.deps()).merge(as, type, survivor, body);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "merged: " << body.dump();
    return Error(ErrorCode::internal, "");
  }
  void sequence_everything() {
    while (sequencer.run_once() > 0) {
    }
  }
  DuplicatePage duplicates(DuplicateQuery q) { return DuplicateFinder(h.deps()).find(ctx, q); }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
  audit::Sequencer sequencer;
  std::string pipeline_id, account;
};

TEST_P(MergeTest, AContactMergeMovesEverythingAndArchivesTheDuplicate) {
  std::string ana = create("contact", {{"name", "Ana Lima"}, {"account_id", account}, {"email", "ana@santaclara.org.br"},
                                       {"phone", "+55 11 98765-4321"}, {"attributes", {{"origem", "site"}}}});
  std::string dup = create("contact", {{"name", "Ana Lima Souza"}, {"account_id", account}, {"phone", "+55 11 91234-5678"},
                                       {"job_title", "Diretora de compras"},
                                       {"attributes", {{"origem", "feira"}, {"crm", "12345"}}}});
  std::string solo = deal(account, {{{"contact_id", dup}, {"role", "decisor"}}});
  std::string both = deal(account, {{{"contact_id", ana}}, {{"contact_id", dup}, {"role", "financeiro"}}});
  std::string call = interaction({{"contact_id", dup}});
  std::string old_call = interaction({{"contact_id", dup}});
  records.archive(ctx, "interaction", old_call);
  std::string task = create("task", {{"title", "Retornar"}, {"contact_id", dup}});
  // A WhatsApp conversation with each of them on one channel account.
  ConversationService conversations(h.deps());
  std::string channel = ChannelAccountService(h.deps()).create(ctx, {{"plugin_id", "org.nucleo.whatsapp"},
                                                                     {"external_id", "106540352242922"}})["id"];
  auto message = [&](const std::string& id, const std::string& from) {
    return Json{{"external_id", id}, {"type", "whatsapp"}, {"from", {{"phone", from}}}, {"text", "Bom dia"},
                {"content", {{"kind", "text"}}}};
  };
  std::string kept = conversations.receive(ctx, channel, message("wamid.1", "+5511987654321"))["conversation_id"];
  h.clock.advance_micros(1'000'000);
  std::string gone = conversations.receive(ctx, channel, message("wamid.2", "+5511912345678"))["conversation_id"];
  ASSERT_NE(kept, gone);
  sequence_everything();
  Timestamp before_merge = h.clock.now();
  h.clock.advance_micros(1'000'000);

  ctx.request_id = "req_merge_1";
  Json survivor = MergeService(h.deps()).merge(ctx, "contact", ana, {{"from", {dup}}, {"fields", {{"name", dup}}}}).record;

  EXPECT_EQ(survivor["name"], "Ana Lima Souza");                 // chosen
  EXPECT_EQ(survivor["email"], "ana@santaclara.org.br");         // the survivor's
  EXPECT_EQ(survivor["phone"], "+5511987654321");                // the survivor's, not replaced
  EXPECT_EQ(survivor["job_title"], "Diretora de compras");       // filled: the survivor had none
  EXPECT_EQ(survivor["attributes"], Json({{"origem", "site"}, {"crm", "12345"}}));
  Json merged = get("contact", dup);
  EXPECT_EQ(merged["merged_into"], ana);
  EXPECT_FALSE(merged["archived_at"].is_null());

  EXPECT_EQ(get("interaction", call)["contact_id"], ana);
  EXPECT_EQ(get("interaction", old_call)["contact_id"], ana);  // archived ones follow too
  EXPECT_EQ(get("task", task)["contact_id"], ana);
  EXPECT_EQ(get("deal", solo)["contacts"], Json::parse(R"([{"contact_id":")" + ana + R"(","role":"decisor"}])"));
  EXPECT_EQ(get("deal", both)["contacts"], Json::parse(R"([{"contact_id":")" + ana + R"(","role":"financeiro"}])"));
  // One conversation left, holding both messages, the later one last.
  Json inbox = conversations.conversation(ctx, kept, nullptr);
  EXPECT_EQ(inbox["contact_id"], ana);
  EXPECT_EQ(inbox["unread_count"], 2);
  EXPECT_EQ(conversations.thread(ctx, kept, "", 10).items.size(), 2u);
  EXPECT_THROW(conversations.conversation(ctx, gone, nullptr), Error);
  EXPECT_EQ(h.count("SELECT count(*) FROM conversations WHERE contact_id = '" + dup + "'"), 0);

  // Every step is audited under the call's request id.
  EXPECT_EQ(audited("contact.merged", "req_merge_1"), 1);
  EXPECT_EQ(audited("contact.updated", "req_merge_1"), 1);
  EXPECT_EQ(audited("interaction.updated", "req_merge_1"), 3);  // two calls and her WhatsApp message
  EXPECT_EQ(audited("task.updated", "req_merge_1"), 1);
  EXPECT_EQ(audited("deal.updated", "req_merge_1"), 2);
  EXPECT_EQ(audited("conversation.merged", "req_merge_1"), 1);

  // Who was who: the duplicate's history reads as it was before the merge and after it.
  sequence_everything();
  AuditService audit(h.deps());
  Json then = audit.history(ctx, "contact", dup, before_merge.micros);
  EXPECT_EQ(then["record"]["name"], "Ana Lima Souza");
  EXPECT_TRUE(then["record"]["archived_at"].is_null());
  Json now = audit.history(ctx, "contact", dup, std::nullopt);
  EXPECT_EQ(now["versions"].back()["action"], "contact.merged");
  Json interaction_then = audit.history(ctx, "interaction", call, before_merge.micros);
  EXPECT_EQ(interaction_then["record"]["contact_id"], dup);
  EXPECT_EQ(audit.history(ctx, "contact", ana, std::nullopt)["versions"].back()["action"], "contact.updated");

  // A merged record stays merged.
  EXPECT_EQ(refusal("contact", ana, {{"from", {dup}}}, ctx).code(), ErrorCode::conflict);
  try {
    records.restore(ctx, "contact", dup);
    ADD_FAILURE() << "a merged contact was restored";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
}

TEST_P(MergeTest, AnAccountMergeMovesItsContactsDealsAndTakesTheTaxId) {
  std::string kept = create("account", {{"legal_name", "Agro Sul"}, {"emails", {"vendas@agrosul.com.br"}}});
  std::string dup = create("account", {{"legal_name", "AGRO SUL LTDA"}, {"tax_id", "11.222.333/0001-81"},
                                       {"emails", {"compras@agrosul.com.br", "vendas@agrosul.com.br"}}});
  std::string person = create("contact", {{"name", "João"}, {"account_id", dup}});
  std::string sale = deal(dup, Json::array());
  std::string visit = interaction({{"account_id", dup}, {"type", "visit"}});
  std::string task = create("task", {{"title", "Proposta"}, {"account_id", dup}});

  Json survivor = MergeService(h.deps()).merge(ctx, "account", kept, {{"from", {dup}}}).record;
  EXPECT_EQ(survivor["legal_name"], "Agro Sul");
  EXPECT_EQ(survivor["tax_id"], "11222333000181");  // taken once the duplicate was archived
  EXPECT_EQ(survivor["tax_id_kind"], "cnpj");
  EXPECT_EQ(survivor["emails"], Json({"vendas@agrosul.com.br", "compras@agrosul.com.br"}));
  EXPECT_EQ(get("contact", person)["account_id"], kept);
  EXPECT_EQ(get("deal", sale)["account_id"], kept);
  EXPECT_EQ(get("interaction", visit)["account_id"], kept);
  EXPECT_EQ(get("task", task)["account_id"], kept);
  EXPECT_EQ(get("account", dup)["merged_into"], kept);
}

TEST_P(MergeTest, BadMergesAreRefusedAndChangeNothing) {
  std::string ana = create("contact", {{"name", "Ana"}});
  std::string dup = create("contact", {{"name", "Ana L."}});
  std::string call = interaction({{"contact_id", dup}});
  auto fields_of = [](const Error& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields()) out.push_back(f.field);
    return out;
  };
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", Json::array()}}, ctx)), std::vector<std::string>{"from"});
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", {ana}}}, ctx)), std::vector<std::string>{"from[0]"});
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", {dup}}, {"fields", {{"shoe_size", dup}}}}, ctx)),
            std::vector<std::string>{"fields.shoe_size"});
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", {dup}}, {"fields", {{"merged_into", dup}}}}, ctx)),
            std::vector<std::string>{"fields.merged_into"});
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", {dup}}, {"fields", {{"name", call}}}}, ctx)),
            std::vector<std::string>{"fields.name"});
  EXPECT_EQ(fields_of(refusal("contact", ana, {{"from", {dup}}, {"into", ana}}, ctx)), std::vector<std::string>{"into"});

  // Another tenant's contact is not found, whichever side it is on; nothing moved.
  std::string other_tenant = h.create_tenant("Outra");
  CallContext other = h.context(other_tenant);
  std::string theirs = records.create(other, "contact", {{"name", "Ana"}}).record["id"];
  EXPECT_EQ(refusal("contact", ana, {{"from", {theirs}}}, ctx).code(), ErrorCode::not_found);
  EXPECT_EQ(refusal("contact", theirs, {{"from", {dup}}}, ctx).code(), ErrorCode::not_found);
  EXPECT_EQ(refusal("contact", ana, {{"from", {dup, theirs}}}, ctx).code(), ErrorCode::not_found);
  EXPECT_TRUE(get("contact", dup)["archived_at"].is_null());
  EXPECT_EQ(get("interaction", call)["contact_id"], dup);

  // A sales rep may not merge; neither may a key without contacts:write.
  auto sales = std::make_shared<Principal>();
  sales->role = "sales";
  CallContext as_sales = ctx;
  as_sales.principal = sales;
  EXPECT_EQ(refusal("contact", ana, {{"from", {dup}}}, as_sales).code(), ErrorCode::forbidden);
  auto integration = std::make_shared<Principal>();
  integration->role = "integration";
  integration->scopes_apply = true;
  integration->scopes = {"contacts:write"};  // moving the interaction needs interactions:write too
  CallContext as_integration = ctx;
  as_integration.principal = integration;
  EXPECT_EQ(refusal("contact", ana, {{"from", {dup}}}, as_integration).code(), ErrorCode::forbidden);
  EXPECT_TRUE(get("contact", dup)["archived_at"].is_null());
  EXPECT_EQ(get("interaction", call)["contact_id"], dup);
}

TEST_P(MergeTest, DuplicatesArePairedWithWhy) {
  std::string ana = create("contact", {{"name", "Ana Souza"}, {"account_id", account}, {"email", "ana@santaclara.org.br"}});
  std::string ana_again = create("contact", {{"name", "ana sousa"}, {"account_id", account}, {"email", "ANA@santaclara.org.br"}});
  std::string joao = create("contact", {{"name", "João da Silva"}, {"account_id", account}});
  std::string joao_again = create("contact", {{"name", "Joao Silva"}, {"account_id", account}});
  create("contact", {{"name", "Joao Silva"}});  // no account: names are compared within one
  create("contact", {{"name", "Pedro Alves"}, {"account_id", account}});

  DuplicatePage page = duplicates({"contact"});
  ASSERT_EQ(page.items.size(), 2u) << Json(page.items).dump();
  Json first = page.items[0];  // the shared e-mail comes first
  EXPECT_EQ(first["ids"], Json({std::min(ana, ana_again), std::max(ana, ana_again)}));
  EXPECT_EQ(first["reasons"][0], Json({{"kind", "email"}, {"value", "ana@santaclara.org.br"}}));
  EXPECT_EQ(first["reasons"][1]["kind"], "name");
  EXPECT_EQ(page.items[1]["ids"], Json({std::min(joao, joao_again), std::max(joao, joao_again)}));
  EXPECT_EQ(page.items[1]["reasons"][0]["kind"], "name");
  EXPECT_GT(page.items[1]["score"].get<double>(), 0.7);
  // A stricter threshold leaves the e-mail pair alone; pages follow each other.
  DuplicateQuery strict{"contact"};
  strict.min_score = 0.9;
  EXPECT_EQ(duplicates(strict).items.size(), 1u);
  DuplicateQuery paged{"contact"};
  paged.limit = 1;
  DuplicatePage one = duplicates(paged);
  ASSERT_EQ(one.items.size(), 1u);
  paged.after = one.next;
  DuplicatePage two = duplicates(paged);
  ASSERT_EQ(two.items.size(), 1u);
  EXPECT_EQ(two.items[0], page.items[1]);
  EXPECT_TRUE(two.next.empty());

  // Accounts: a CNPJ root shared by head office and branch; one name spelled twice.
  std::string head = create("account", {{"legal_name", "Cooperativa Agro Norte"}, {"tax_id", "11.222.333/0001-81"}});
  std::string branch = create("account", {{"legal_name", "Coop. Agro Norte Filial"}, {"tax_id", "11.222.333/0002-62"}});
  std::string twice = create("account", {{"legal_name", "Hospital Santa Clara Ltda."}});
  DuplicatePage accounts = duplicates({"account"});
  ASSERT_EQ(accounts.items.size(), 2u) << Json(accounts.items).dump();
  EXPECT_EQ(accounts.items[0]["ids"], Json({std::min(head, branch), std::max(head, branch)}));
  EXPECT_EQ(accounts.items[0]["reasons"][0], Json({{"kind", "tax_id_root"}, {"value", "11222333"}}));
  EXPECT_EQ(accounts.items[1]["ids"], Json({std::min(account, twice), std::max(account, twice)}));

  // Merged, a pair is gone.
  MergeService(h.deps()).merge(ctx, "contact", ana, {{"from", {ana_again}}});
  EXPECT_EQ(duplicates({"contact"}).items.size(), 1u);
  EXPECT_THROW(duplicates({"deal"}), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, MergeTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
