// The consent ledger on both backends (issue #30, docs/compliance.md "Consent"): every
// grant and revocation is an entry that is never changed, the contact's state follows
// the latest one, a search filters on it, unknown purposes and bases are named, and an
// outbound message without a basis is refused and audited.
#include <gtest/gtest.h>

#include "kernel/audit/audit_log.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/events/jobs.hpp"
#include "kernel/services/audit_service.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/channel_delivery.hpp"
#include "kernel/services/consent_service.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/processing_record.hpp"
#include "kernel/store/sql.hpp"
#include "tests/support/refusal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

using test::error_of;

std::vector<std::string> fields_of(const Error& e) {
  std::vector<std::string> out;
  for (const auto& f : e.fields()) out.push_back(f.field);
  return out;
}

class ConsentTest : public testing::TestWithParam<store::Backend> {
 protected:
  ConsentTest() : h(GetParam()), records(h.records()), consents(h.deps()), ctx(h.context(h.tenant)),
                  sequencer(h.deps().worker_database, h.clock) {
    consents.define_purpose(ctx, "marketing_email", {{"description", "newsletters"}});
    maria = records.create(ctx, "contact", {{"name", "Maria Souza"}, {"phone", "+5511987654321"}}).record["id"];
    joao = records.create(ctx, "contact", {{"name", "João Pereira"}}).record["id"];
  }

  Json grant(const std::string& contact, const std::string& purpose = "marketing_email") {
    h.clock.advance_micros(1'000'000);
    return consents.record(ctx, contact,
                           {{"purpose", purpose}, {"action", "grant"}, {"legal_basis", "consent"},
                            {"source", {{"type", "form"}, {"reference", "https://coop.example/newsletter"}}},
                            {"notice", "Aviso de privacidade v3"}});
  }
  Json revoke(const std::string& contact, const std::string& purpose = "marketing_email") {
    h.clock.advance_micros(1'000'000);
    return consents.record(ctx, contact, {{"purpose", purpose}, {"action", "revoke"}});
  }
  std::vector<std::string> search(const Json& filter) {
    std::vector<std::string> ids;
    for (const auto& text : records.search(ctx, "contact", {{"filter_groups", {{{"filters", {filter}}}}}}, Json(), 100).records)
      ids.push_back(Json::parse(text)["id"]);
    return ids;
  }
  void sequence_everything() {
    while (sequencer.run_once() > 0) {
    }
  }

  test::ServiceHarness h;
  RecordService records;
  ConsentService consents;
  CallContext ctx;
  audit::Sequencer sequencer;
  std::string maria, joao;
};

TEST_P(ConsentTest, TheStateIsTheLatestEntryAndEveryEntryStays) {
  EXPECT_EQ(consents.allows(ctx, maria, "marketing_email").state, "none");
  EXPECT_FALSE(consents.allows(ctx, maria, "marketing_email").allowed);

  Json granted = grant(maria);
  EXPECT_EQ(granted["entry"]["action"], "grant");
  EXPECT_EQ(granted["entry"]["legal_basis"], "consent");
  EXPECT_EQ(granted["entry"]["source"], (Json{{"type", "form"}, {"reference", "https://coop.example/newsletter"}}));
  EXPECT_EQ(granted["entry"]["notice"], "Aviso de privacidade v3");
  EXPECT_EQ(granted["entry"]["actor"]["id"], ctx.actor.id);
  EXPECT_EQ(granted["contact"]["consent"], (Json{{"marketing_email", "granted"}}));
  EXPECT_EQ(granted["contact"]["version"], 2);
  ConsentDecision yes = consents.allows(ctx, maria, "marketing_email");
  EXPECT_TRUE(yes.allowed);
  EXPECT_EQ(yes.entry_id, granted["entry"]["id"]);

  // A revocation withdraws the basis it revokes, and nothing is edited: both entries stay.
  Json revoked = revoke(maria);
  EXPECT_EQ(revoked["entry"]["legal_basis"], "consent");
  EXPECT_EQ(revoked["entry"]["source"]["type"], "api");
  EXPECT_EQ(records.get(ctx, "contact", maria)["consent"], (Json{{"marketing_email", "revoked"}}));
  EXPECT_FALSE(consents.allows(ctx, maria, "marketing_email").allowed);
  EXPECT_EQ(consents.allows(ctx, maria, "marketing_email").state, "revoked");

  // Granted again in the same microsecond: still the latest, still in order.
  Json again = consents.record(ctx, maria, {{"purpose", "marketing_email"}, {"action", "grant"},
                                            {"legal_basis", "legitimate_interest"}});
  Json history = consents.history(ctx, maria);
  ASSERT_EQ(history["entries"].size(), 3u);
  EXPECT_EQ(history["entries"][0]["id"], granted["entry"]["id"]);
  EXPECT_EQ(history["entries"][1]["id"], revoked["entry"]["id"]);
  EXPECT_EQ(history["entries"][2]["id"], again["entry"]["id"]);
  ASSERT_EQ(history["purposes"].size(), 1u);
  EXPECT_EQ(history["purposes"][0]["state"], "granted");
  EXPECT_EQ(history["purposes"][0]["legal_basis"], "legitimate_interest");
  EXPECT_TRUE(consents.allows(ctx, maria, "marketing_email").allowed);
  EXPECT_EQ(consents.history(ctx, joao)["entries"].size(), 0u);

  // The ledger refuses every change, whoever asks.
  EXPECT_ANY_THROW(h.deps().database.write(h.tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(), "UPDATE consent_entries SET action = 'grant' WHERE id = :p0", {revoked["entry"]["id"].get<std::string>()});
  }));
  EXPECT_ANY_THROW(h.deps().database.write(h.tenant, [&](store::Transaction& tx) {
    store::execute(tx.session(), "DELETE FROM consent_entries WHERE id = :p0", {revoked["entry"]["id"].get<std::string>()});
  }));
  EXPECT_EQ(consents.history(ctx, maria)["entries"].size(), 3u);
}

TEST_P(ConsentTest, EachEntryIsAuditedAndTheContactsHistoryRebuildsItsState) {
  Json granted = grant(maria);
  Json revoked = revoke(maria);
  sequence_everything();
  AuditService audit(h.deps());
  Json entry_history = audit.history(ctx, "consent", granted["entry"]["id"], std::nullopt);
  ASSERT_EQ(entry_history["versions"].size(), 1u);
  EXPECT_EQ(entry_history["versions"][0]["action"], "consent.granted");
  const Json& changes = entry_history["versions"][0]["changes"];
  EXPECT_EQ(changes["purpose"]["to"], "marketing_email");
  EXPECT_EQ(changes["legal_basis"]["to"], "consent");
  EXPECT_EQ(changes["notice"]["to"], "Aviso de privacidade v3");
  EXPECT_EQ(changes["contact_id"]["to"], maria);

  Json contact_history =
      audit.history(ctx, "contact", maria, parse_rfc3339(granted["contact"]["updated_at"].get<std::string>())->micros);
  EXPECT_EQ(contact_history["record"]["consent"], (Json{{"marketing_email", "granted"}}));
  Json now = audit.history(ctx, "contact", maria, h.clock.now().micros);
  EXPECT_EQ(now["record"]["consent"], (Json{{"marketing_email", "revoked"}}));
  EXPECT_EQ(now["record"]["version"], revoked["contact"]["version"]);
  EXPECT_EQ(now["versions"].back()["action"], "contact.consent_changed");
}

TEST_P(ConsentTest, BadEntriesAreRefusedNamingEachProblem) {
  Error unknown = error_of([&] { consents.record(ctx, maria, {{"purpose", "telemarketing"}, {"action", "grant"},
                                                               {"legal_basis", "contract"}}); });
  EXPECT_EQ(unknown.code(), ErrorCode::validation);
  EXPECT_EQ(fields_of(unknown), std::vector<std::string>{"purpose"});
  EXPECT_NE(std::string(unknown.what()).find("telemarketing"), std::string::npos);

  Error bad = error_of([&] {
    consents.record(ctx, maria, {{"purpose", "marketing_email"}, {"action", "give"}, {"legal_basis", "because"},
                                 {"source", {{"type", "rumour"}}}, {"colour", "blue"}});
  });
  EXPECT_EQ(bad.code(), ErrorCode::validation);
  auto fields = fields_of(bad);
  for (const char* f : {"colour", "action", "legal_basis", "source.type"})
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f << " in " << testing::PrintToString(fields);
  EXPECT_NE(std::string(bad.fields().at(2).message).find("legitimate_interest"), std::string::npos)
      << bad.fields().at(2).message;  // the bases are listed

  // A grant names its basis; a consent, the notice the person saw.
  EXPECT_EQ(fields_of(error_of([&] { consents.record(ctx, maria, {{"purpose", "marketing_email"}, {"action", "grant"}}); })),
            std::vector<std::string>{"legal_basis"});
  EXPECT_EQ(fields_of(error_of([&] {
              consents.record(ctx, maria, {{"purpose", "marketing_email"}, {"action", "grant"}, {"legal_basis", "consent"}});
            })),
            std::vector<std::string>{"notice"});
  EXPECT_EQ(consents.history(ctx, maria)["entries"].size(), 0u);  // nothing half-written

  // The state is the ledger's: a caller cannot write it.
  Error direct = error_of([&] { records.update(ctx, "contact", maria, {{"consent", {{"marketing_email", "granted"}}}}); });
  EXPECT_EQ(direct.code(), ErrorCode::validation);
  EXPECT_NE(direct.fields().at(0).message.find("/consents"), std::string::npos) << direct.fields().at(0).message;

  EXPECT_EQ(error_of([&] { consents.define_purpose(ctx, "Marketing Email", {{"description", "x"}}); }).code(),
            ErrorCode::validation);
  EXPECT_EQ(error_of([&] { grant("con_01m81dx24qexfr0yymkppg515k"); }).code(), ErrorCode::not_found);
}

TEST_P(ConsentTest, PurposesAreTheTenantsAndThePluginsAndOnlyAnAdminDefinesThem) {
  h.deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO plugin_purposes (plugin_id, key, description, plugin_version, recorded_at)"
                   " VALUES ('org.nucleo.whatsapp', 'marketing_whatsapp', 'WhatsApp marketing', '1.0.0', 0),"
                   " ('org.nucleo.email', 'marketing_email', 'e-mail marketing', '0.1.0', 0)",
                   {});
  });
  std::vector<Json> purposes = consents.purposes(ctx);
  ASSERT_EQ(purposes.size(), 2u);
  EXPECT_EQ(purposes[0], (Json{{"key", "marketing_email"}, {"description", "newsletters"}, {"declared_by", "tenant"}}));
  EXPECT_EQ(purposes[1]["declared_by"], "org.nucleo.whatsapp");
  grant(maria, "marketing_whatsapp");  // a plugin's purpose is every tenant's
  EXPECT_TRUE(consents.allows(ctx, maria, "marketing_whatsapp").allowed);

  CallContext sales = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "sales";
  sales.principal = principal;
  EXPECT_EQ(error_of([&] { consents.define_purpose(sales, "profiling", {{"description", "x"}}); }).code(),
            ErrorCode::forbidden);
  EXPECT_EQ(consents.purposes(sales).size(), 2u);  // everyone may read them

  // Another tenant sees its own purposes and none of this one's contacts or entries.
  CallContext other = h.context(h.create_tenant("Outra Cooperativa"));
  EXPECT_EQ(consents.purposes(other).size(), 2u);  // the plugins' only, marketing_email declared by org.nucleo.email
  EXPECT_EQ(error_of([&] { consents.history(other, maria); }).code(), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { consents.allows(other, maria, "marketing_whatsapp"); }).code(), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { consents.record(other, maria, {{"purpose", "marketing_whatsapp"}, {"action", "revoke"}}); }).code(),
            ErrorCode::not_found);
  EXPECT_TRUE(consents.allows(ctx, maria, "marketing_whatsapp").allowed);
}

TEST_P(ConsentTest, ASearchFiltersOnTheLedgersState) {
  grant(maria);
  grant(joao);
  revoke(joao);
  std::string ana = records.create(ctx, "contact", {{"name", "Ana"}}).record["id"];
  EXPECT_EQ(search({{"field", "consent.marketing_email"}, {"op", "eq"}, {"value", "granted"}}), std::vector<std::string>{maria});
  EXPECT_EQ(search({{"field", "consent.marketing_email"}, {"op", "eq"}, {"value", "revoked"}}), std::vector<std::string>{joao});
  auto not_granted = search({{"field", "consent.marketing_email"}, {"op", "neq"}, {"value", "granted"}});
  std::sort(not_granted.begin(), not_granted.end());
  std::vector<std::string> expected{joao, ana};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(not_granted, expected);

  Error unknown = error_of([&] { search({{"field", "consent.profiling"}, {"op", "eq"}, {"value", "granted"}}); });
  EXPECT_EQ(unknown.code(), ErrorCode::validation);
  EXPECT_NE(std::string(unknown.what()).find("profiling"), std::string::npos);
  EXPECT_EQ(error_of([&] { search({{"field", "consent.marketing_email"}, {"op", "eq"}, {"value", true}}); }).code(),
            ErrorCode::validation);
  EXPECT_EQ(error_of([&] {
              records.search(ctx, "account", {{"filter_groups", {{{"filters", {{{"field", "consent.marketing_email"},
                                                                                 {"op", "eq"}, {"value", "granted"}}}}}}}},
                             Json(), 10);
            }).code(),
            ErrorCode::validation);
}

// The kernel check before a message goes out: a purpose the ledger grants, or a reply
// to someone who wrote on the channel account; anything else refused and audited.
TEST_P(ConsentTest, AMessageWithoutALegalBasisIsRefusedAndTheRefusalAudited) {
  ChannelAccountService channels(h.deps());
  std::string channel = channels.create(ctx, {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", "106540352242922"}})["id"];
  events::JobQueue jobs(h.deps().worker_database, h.clock, {}, "test-node");
  ChannelSender accept = [](const std::string&, const CallContext&, const Json&) {
    return std::optional<ChannelSendResult>(ChannelSendResult{ChannelSendResult::Kind::sent, Json::object(), ""});
  };
  jobs.add(channel_delivery_job(h.deps(), accept, 3, h.clock));
  ConversationService conversations(h.deps());
  ConversationService::ChannelKinds kinds = [](const std::string&) { return ChannelTraits{"whatsapp", 24}; };
  consents.define_purpose(ctx, "marketing_whatsapp", {{"description", "promoções"}});
  Json offer = {{"channel_account_id", channel}, {"template", {{"name", "oferta_safra"}, {"language", "pt_BR"}}}};

  Error no_purpose = error_of([&] { conversations.send(ctx, jobs, maria, offer, kinds); });
  EXPECT_EQ(no_purpose.code(), ErrorCode::validation);
  EXPECT_EQ(no_purpose.fields().at(0).code, "no_legal_basis");
  EXPECT_NE(std::string(no_purpose.what()).find("purpose"), std::string::npos) << no_purpose.what();

  Json marketing = offer;
  marketing["purpose"] = "marketing_whatsapp";
  Error none = error_of([&] { conversations.send(ctx, jobs, maria, marketing, kinds); });
  EXPECT_EQ(none.fields().at(0).code, "no_legal_basis");
  marketing["purpose"] = "telemarketing";
  EXPECT_EQ(error_of([&] { conversations.send(ctx, jobs, maria, marketing, kinds); }).fields().at(0).code, "unknown_purpose");
  marketing["purpose"] = "marketing_whatsapp";

  grant(maria, "marketing_whatsapp");
  Json sent = conversations.send(ctx, jobs, maria, marketing, kinds);
  EXPECT_EQ(sent["delivery_status"], "queued");
  revoke(maria, "marketing_whatsapp");
  Error revoked = error_of([&] { conversations.send(ctx, jobs, maria, marketing, kinds); });
  EXPECT_EQ(revoked.fields().at(0).code, "no_legal_basis");
  EXPECT_NE(std::string(revoked.what()).find("revoked"), std::string::npos) << revoked.what();

  // Refused sends are not messages: one queued, three refusals in the audit trail.
  EXPECT_EQ(h.count("SELECT count(*) FROM interactions WHERE direction = 'outbound'"), 1);
  sequence_everything();
  AuditQuery refused;
  refused.entity_id = maria;
  refused.action = "consent.send_refused";
  std::vector<Json> refusals = AuditService(h.deps()).events(ctx, refused).events;
  ASSERT_EQ(refusals.size(), 3u);
  EXPECT_NE(refusals[2]["leaf"]["reason"].get<std::string>().find("marketing_whatsapp"), std::string::npos) << refusals[2];

  // She writes: an answer needs no purpose (her request), even after she revoked marketing.
  h.clock.advance_micros(1'000'000);
  conversations.receive(ctx, channel, {{"external_id", "wamid.IN1"}, {"type", "whatsapp"},
                                       {"from", {{"phone", "+5511987654321"}, {"name", "Maria"}}},
                                       {"text", "Qual o preço?"}, {"content", {{"kind", "text"}}}});
  Json answer = conversations.send(ctx, jobs, maria, {{"channel_account_id", channel}, {"text", "R$ 120 a saca"}}, kinds);
  EXPECT_EQ(answer["delivery_status"], "queued");
}

// Issue #30, deliverable 4: the record of processing (LGPD art. 37) is generated from
// what the tenant holds — purposes with the bases recorded, the personal data of the
// kernel and of plugins, recipients — and counts nothing of another tenant.
TEST_P(ConsentTest, TheRecordOfProcessingIsGeneratedFromTheSystem) {
  consents.define_purpose(ctx, "sales", {{"description", "propostas | follow-ups"}});
  grant(maria);
  grant(joao);
  revoke(joao);
  consents.record(ctx, joao, {{"purpose", "sales"}, {"action", "grant"}, {"legal_basis", "legitimate_interest"}});
  ChannelAccountService(h.deps()).create(ctx, {{"plugin_id", "org.nucleo.whatsapp"}, {"external_id", "106540352242922"}});
  h.deps().worker_database.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "INSERT INTO plugin_collections (plugin_id, collection, indexes, personal, plugin_version, recorded_at)"
                   " VALUES ('com.example.finance', 'kyc_reviews', '{}',"
                   " '{\"subject_field\":\"contact_id\",\"fields\":[\"full_name\"],\"on_erasure\":\"redact\"}', '1.0.0', 0)",
                   {});
  });
  // Another tenant's consents are not this one's.
  CallContext other = h.context(h.create_tenant("Outra"));
  ConsentService(h.deps()).define_purpose(other, "marketing_email", {{"description", "x"}});
  std::string stranger = records.create(other, "contact", {{"name", "Fulano"}}).record["id"];
  ConsentService(h.deps()).record(other, stranger, {{"purpose", "marketing_email"}, {"action", "grant"},
                                                    {"legal_basis", "consent"}, {"notice", "v1"}});

  CallContext auditor = ctx;
  auto principal = std::make_shared<Principal>();
  principal->role = "auditor";
  auditor.principal = principal;
  Json record = ProcessingRecord(h.deps()).generate(auditor);
  EXPECT_EQ(record["controller"]["tenant_id"], h.tenant);
  ASSERT_EQ(record["purposes"].size(), 2u) << record["purposes"];
  const Json& email = record["purposes"][0];
  EXPECT_EQ(email["key"], "marketing_email");
  EXPECT_EQ(email["contacts_granted"], 1);  // Maria; João revoked
  EXPECT_EQ(email["contacts_revoked"], 1);
  EXPECT_EQ(email["legal_bases"], (Json{{"consent", 1}}));
  EXPECT_EQ(record["purposes"][1]["legal_bases"], (Json{{"legitimate_interest", 1}}));

  auto category = [&](const std::string& entity) {
    for (const auto& c : record["data_categories"])
      if (c["entity"] == entity) return c;
    return Json();
  };
  EXPECT_EQ(category("contact")["fields"], (Json{"name", "email", "phone", "job_title"}));
  EXPECT_EQ(category("interaction")["declared_by"], "kernel");
  EXPECT_EQ(category("plugin_record")["declared_by"], "com.example.finance");
  EXPECT_EQ(category("plugin_record")["fields"], Json{"full_name"});
  ASSERT_EQ(record["recipients"].size(), 1u);
  EXPECT_EQ(record["recipients"][0]["plugin_id"], "org.nucleo.whatsapp");
  EXPECT_FALSE(record["security_measures"].empty());

  std::string md = ProcessingRecord::markdown(record);
  EXPECT_EQ(md.rfind("# Registro das operações de tratamento", 0), 0u) << md;
  EXPECT_NE(md.find("| `sales` | propostas \\| follow-ups |"), std::string::npos) << md;  // a pipe stays in its cell
  EXPECT_NE(md.find("consent: 1"), std::string::npos) << md;

  CallContext sales = ctx;
  auto seller = std::make_shared<Principal>();
  seller->role = "sales";
  sales.principal = seller;
  EXPECT_EQ(error_of([&] { ProcessingRecord(h.deps()).generate(sales); }).code(), ErrorCode::forbidden);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentTest, testing::Values(store::Backend::postgresql, store::Backend::sqlite),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
