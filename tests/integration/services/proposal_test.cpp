// Issue #32, proposals: priced lines checked by JSON pointer, a sent revision frozen and
// never changed (its PDF's hash stored with it), discounts above a limit waiting for an
// approval, and the public link — views counted, tampered, revoked and expired links
// refused, a decision recorded with the revision and its hash, a superseded revision not
// decidable. Both backends.
#include "kernel/services/proposal_service.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/digest.hpp"
#include "kernel/services/principal.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class ProposalTest : public testing::TestWithParam<store::Backend> {
 protected:
  ProposalTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {
    std::string pipeline = create("pipeline", {{"name", "Hospitais"}});
    create("stage", {{"pipeline_id", pipeline}, {"name", "Proposta"}, {"position", 0}});
    won_stage = create("stage", {{"pipeline_id", pipeline}, {"name", "Ganho"}, {"position", 1}, {"kind", "won"}});
    account = create("account", {{"legal_name", "Associação Hospitalar São João"}, {"tax_id", "11.222.333/0001-81"}});
    contact = create("contact", {{"name", "Ana Lima"}, {"account_id", account}, {"email", "ana@saojoao.org.br"}});
    deal = create("deal", {{"name", "Cateteres 2027"}, {"account_id", account}, {"pipeline_id", pipeline}});
    cateter = create("product", {{"name", "Cateter 22G"}, {"sku", "CAT-22"}, {"price", 1500000}});
    sales = user("sales", "Carla Souza");
    manager = user("manager", "Marcos Dias");
  }

  std::string create(const std::string& type, const Json& fields) { return records.create(ctx, type, fields).record["id"]; }
  std::string user(const std::string& role, const std::string& name) {
    std::string email = role + "@distribuidora.com.br";
    return create("user", {{"name", name}, {"email", email}, {"role", role}});
  }
  CallContext as(const std::string& role, const std::string& user_id) {
    CallContext c = ctx;
    auto p = std::make_shared<Principal>();
    p->role = role;
    p->user_id = user_id;
    c.principal = p;
    c.actor = {"user", user_id, ""};
    return c;
  }
  ServiceDependencies deps() {
    ServiceDependencies d = h.deps();
    d.proposals.discount_limits = {{"sales", 1000}, {"manager", 2500}};
    return d;
  }
  ProposalService proposals() { return ProposalService(deps()); }
  std::string proposal(const Json& lines, const Json& more = Json::object()) {
    Json fields = {{"deal_id", deal}, {"title", "Fornecimento de cateteres"}, {"contact_id", contact}, {"lines", lines}};
    fields.update(more);
    return create("proposal", fields);
  }
  std::vector<std::string> refusal(const std::function<void()>& write) {
    try {
      write();
    } catch (const Error& e) {
      std::vector<std::string> fields;
      for (const auto& f : e.fields()) fields.push_back(f.field + ": " + f.message);
      if (fields.empty()) fields.push_back(std::string(to_string(e.code())) + ": " + e.what());
      return fields;
    }
    ADD_FAILURE() << "accepted";
    return {};
  }
  // The token of a link's path (/v1/public/proposals/<token>).
  static std::string token_of(const Json& link) {
    std::string path = link["path"];
    return path.substr(path.rfind('/') + 1);
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
  std::string won_stage, account, contact, deal, cateter, sales, manager;
};

TEST_P(ProposalTest, LinesArePricedFromProductsAndTotalledInMinorUnits) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 2.5}, {"discount_percent", 10}},
                            {{"description", "Frete"}, {"quantity", 1}, {"unit_price", 25050}}});
  Json p = records.get(ctx, "proposal", id);
  EXPECT_EQ(p["currency"], "BRL");  // the deal's
  EXPECT_EQ(p["lines"][0]["description"], "Cateter 22G");
  EXPECT_EQ(p["lines"][0]["sku"], "CAT-22");
  EXPECT_EQ(p["lines"][0]["amount"], 3750000);
  EXPECT_EQ(p["lines"][0]["discount"], 375000);
  EXPECT_EQ(p["subtotal"], 3775050);
  EXPECT_EQ(p["discount_total"], 375000);
  EXPECT_EQ(p["total"], 3400050);
  EXPECT_EQ(p["status"], "draft");
  EXPECT_EQ(p["revision"], 1);
}

TEST_P(ProposalTest, BadLinesAreRefusedByJsonPointerAndNothingIsWritten) {
  std::string dollars = create("product", {{"name", "Monitor"}, {"price", 100}, {"currency", "USD"}});
  int before = h.count("SELECT count(*) FROM proposals");
  EXPECT_EQ(refusal([&] {
              proposal({{{"product_id", cateter}, {"quantity", -2}},
                        {{"product_id", "prd_01kv0s48qnen881s733vqg7sqh"}, {"quantity", 1}},
                        {{"product_id", dollars}, {"quantity", 1}},
                        {{"description", "Instalação"}, {"quantity", 1}, {"unit_price", 100}, {"colour", "red"}}});
            }),
            (std::vector<std::string>{
                "/lines/1/product_id: no live product prd_01kv0s48qnen881s733vqg7sqh in this tenant",
                "/lines/2/product_id: product " + dollars + " is priced in USD; the proposal is in BRL",
                "/lines/3/colour: is not a field of a line item (product_id, description, unit, quantity, unit_price, "
                "discount_percent, discount_amount)"}));
  EXPECT_EQ(refusal([&] { proposal({{{"product_id", cateter}, {"quantity", -2}}}); }),
            std::vector<std::string>{"/lines/0/quantity: must be more than 0 and at most 1000000000"});
  EXPECT_EQ(refusal([&] { proposal({{{"product_id", cateter}, {"quantity", 1}}}, {{"currency", "USD"}}); }),
            std::vector<std::string>{"currency: the deal is in BRL: a proposal is in its deal's currency"});
  EXPECT_EQ(h.count("SELECT count(*) FROM proposals"), before);
}

TEST_P(ProposalTest, ASentRevisionIsFrozenAndAChangeMakesTheNext) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 3}}});
  Json sent = proposals().send(ctx, id, Json::object(), std::nullopt);
  EXPECT_EQ(sent["proposal"]["status"], "sent");
  EXPECT_EQ(sent["version"]["revision"], 1);
  auto pdf = proposals().version_file(ctx, id, 1, "pdf");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(sha256_hex(pdf.body), sent["version"]["pdf_sha256"]);
  // The sending is on the deal's timeline.
  EXPECT_EQ(h.count("SELECT count(*) FROM interactions WHERE type = 'proposal' AND deal_id = '" + deal + "'"), 1);

  Json changed = records.update(ctx, "proposal", id, {{"lines", {{{"product_id", cateter}, {"quantity", 4}}}}}).record;
  EXPECT_EQ(changed["revision"], 2);
  EXPECT_EQ(changed["status"], "draft");
  EXPECT_EQ(changed["total"], 6000000);
  // Revision 1 is what it was, byte for byte.
  EXPECT_EQ(proposals().version_file(ctx, id, 1, "pdf").body, pdf.body);
  EXPECT_EQ(proposals().versions(ctx, id).size(), 1u);
  proposals().send(ctx, id, Json::object(), std::nullopt);
  auto versions = proposals().versions(ctx, id);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_NE(versions[0]["pdf_sha256"], versions[1]["pdf_sha256"]);
  EXPECT_EQ(proposals().version_file(ctx, id, 1, "json").body.find("\"quantity\":3") != std::string::npos, true);
  if (GetParam() == store::Backend::postgresql) {  // the database itself refuses to change a frozen revision
    EXPECT_ANY_THROW(h.database().write(h.tenant, [&](store::Transaction& tx) {
      return store::execute(tx.session(), "UPDATE proposal_versions SET pdf_sha256 = 'x' WHERE proposal_id = :p0", {id});
    }));
  }
}

TEST_P(ProposalTest, ADiscountAboveTheSendersLimitWaitsForAnApproval) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 1}, {"discount_percent", 15}}},
                            {{"owner_id", sales}});
  EXPECT_EQ(refusal([&] { proposals().send(as("sales", sales), id, Json::object(), std::nullopt); }),
            std::vector<std::string>{"approvals: a discount approval of revision 1 is missing"});
  // Neither the owner nor someone whose own limit is lower may approve it.
  EXPECT_EQ(refusal([&] { proposals().approve(as("sales", sales), id, Json::object(), std::nullopt); }),
            std::vector<std::string>{"approver: the discount is above the approver's own limit"});
  // It waits on the agenda of who may approve it, not on its owner's.
  auto waiting = proposals().approvals_waiting_for(ctx, manager, 50);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0]["proposal_id"], id);
  EXPECT_EQ(waiting[0]["discount_percent"], 15.0);
  EXPECT_TRUE(proposals().approvals_waiting_for(ctx, sales, 50).empty());
  proposals().approve(as("manager", manager), id, {{"note", "cliente estratégico"}}, std::nullopt);
  EXPECT_TRUE(proposals().approvals_waiting_for(ctx, manager, 50).empty());
  EXPECT_EQ(proposals().send(as("sales", sales), id, Json::object(), std::nullopt)["proposal"]["status"], "sent");
  // A change is a new revision: the approval was of what the manager saw.
  records.update(ctx, "proposal", id, {{"lines", {{{"product_id", cateter}, {"quantity", 2}, {"discount_percent", 15}}}}});
  EXPECT_EQ(refusal([&] { proposals().send(as("sales", sales), id, Json::object(), std::nullopt); }),
            std::vector<std::string>{"approvals: a discount approval of revision 2 is missing"});
}

TEST_P(ProposalTest, ThePublicLinkCountsViewsAndRefusesTamperedRevokedAndExpiredLinks) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 1}}});
  Json link = proposals().send(ctx, id, {{"link_days", 3}}, std::nullopt)["link"];
  std::string token = token_of(link);
  auto page = proposals().page(ctx, token);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.html.find("Associação Hospitalar São João"), std::string::npos);
  EXPECT_NE(page.html.find("Aceitar a proposta"), std::string::npos);
  h.clock.advance_micros(60'000'000);
  proposals().page(ctx, token);
  Json listed = proposals().links(ctx, id)[0];
  EXPECT_EQ(listed["view_count"], 2);
  EXPECT_NE(listed["first_viewed_at"], listed["last_viewed_at"]);
  // One interaction records the link's views; each view is an event automation sees.
  EXPECT_EQ(h.count("SELECT count(*) FROM interactions WHERE type = 'proposal' AND direction = 'inbound'"), 1);
  EXPECT_EQ(h.count("SELECT count(*) FROM outbox WHERE name = 'proposal.viewed'"), 2);

  std::string tampered = token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(proposals().page(ctx, tampered).status, 404);
  EXPECT_EQ(proposals().page(ctx, h.tenant + ".plk_01kv0s48qnen881s733vqg7sqh." + std::string(32, 'a')).status, 404);
  EXPECT_THROW(proposals().public_pdf(ctx, tampered), Error);
  EXPECT_EQ(proposals().public_pdf(ctx, token).body.rfind("%PDF-", 0), 0u);

  Json second = proposals().issue_link(ctx, id, Json::object());
  proposals().revoke_link(ctx, id, second["id"]);
  auto revoked = proposals().page(ctx, token_of(second));
  EXPECT_EQ(revoked.status, 404);
  EXPECT_NE(revoked.html.find("revogado"), std::string::npos);

  h.clock.advance_micros(3LL * 86'400'000'000);
  auto expired = proposals().page(ctx, token);
  EXPECT_EQ(expired.status, 404);
  EXPECT_NE(expired.html.find("expirou"), std::string::npos);
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, token, {{"decision", "accept"}, {"name", "Ana Lima"}}); }),
            std::vector<std::string>{"not_found: this proposal link expired"});
}

TEST_P(ProposalTest, AnAcceptanceRecordsTheRevisionAndItsHashAndMovesTheDeal) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 1}}}, {{"accept_moves_deal", true}});
  Json sent = proposals().send(ctx, id, Json::object(), std::nullopt);
  std::string token = token_of(sent["link"]);
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, token, {{"decision", "maybe"}, {"name", "A"}}); }),
            (std::vector<std::string>{"decision: must be accept or decline", "name: type your full name (3 to 200 characters)"}));
  CallContext customer = ctx;
  customer.source_ip = "127.0.0.1";
  Json decided = proposals().decide(customer, token, {{"decision", "accept"}, {"name", "Ana Lima"}});
  EXPECT_EQ(decided["status"], "accepted");
  EXPECT_EQ(decided["decided_revision"], 1);
  EXPECT_EQ(decided["decided_sha256"], sent["version"]["pdf_sha256"]);
  EXPECT_EQ(decided["deal_move"]["stage_id"], won_stage);
  EXPECT_EQ(records.get(ctx, "deal", deal)["status"], "won");
  Json p = records.get(ctx, "proposal", id);
  EXPECT_EQ(p["decision"]["name"], "Ana Lima");
  EXPECT_EQ(p["decision"]["ip"], "127.0.0.1");
  EXPECT_EQ(h.count("SELECT count(*) FROM audit_pending WHERE action = 'proposal.accepted'"), 1);
  // Decided is decided: no second decision, no change.
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, token, {{"decision", "decline"}, {"name", "Ana Lima"}}); })[0],
            "revision: Esta proposta foi aceita.");
  EXPECT_EQ(refusal([&] { records.update(ctx, "proposal", id, {{"notes", "outra"}}); })[0],
            "status: accepted");
  EXPECT_NE(proposals().page(ctx, token).html.find("Esta proposta foi aceita."), std::string::npos);
}

TEST_P(ProposalTest, ASupersededOrWithdrawnRevisionCannotBeAccepted) {
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 1}}});
  std::string first = token_of(proposals().send(ctx, id, Json::object(), std::nullopt)["link"]);
  records.update(ctx, "proposal", id, {{"payment_terms", "30 dias"}});
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, first, {{"decision", "accept"}, {"name", "Ana Lima"}}); })[0],
            "revision: Esta versão da proposta foi substituída por uma mais recente.");
  EXPECT_EQ(proposals().page(ctx, first).html.find("Aceitar a proposta"), std::string::npos);
  std::string second = token_of(proposals().send(ctx, id, Json::object(), std::nullopt)["link"]);
  EXPECT_EQ(proposals().decide(ctx, second, {{"decision", "decline"}, {"name", "Ana Lima"}, {"reason", "caro"}})["status"],
            "declined");
  // A proposal its sender withdrew (archived) is decided by nobody.
  std::string other = proposal({{{"product_id", cateter}, {"quantity", 2}}});
  std::string third = token_of(proposals().send(ctx, other, Json::object(), std::nullopt)["link"]);
  records.archive(ctx, "proposal", other);
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, third, {{"decision", "accept"}, {"name", "Ana Lima"}}); })[0],
            "revision: Esta proposta foi retirada por quem a enviou.");
  EXPECT_NE(proposals().page(ctx, third).html.find("retirada"), std::string::npos);
}

TEST_P(ProposalTest, ATemplateAskingForACpfGetsAValidOne) {
  create("proposal_template", {{"name", "Hospitais"}, {"is_default", true}, {"acceptance_fields", {"cpf"}},
                               {"intro", "Prezada equipe de {{account.legal_name}},"}});
  std::string id = proposal({{{"product_id", cateter}, {"quantity", 1}}});
  std::string token = token_of(proposals().send(ctx, id, Json::object(), std::nullopt)["link"]);
  EXPECT_NE(proposals().page(ctx, token).html.find("Prezada equipe de Associação Hospitalar São João,"), std::string::npos);
  EXPECT_EQ(refusal([&] { proposals().decide(ctx, token, {{"decision", "accept"}, {"name", "Ana Lima"}, {"cpf", "111"}}); }),
            std::vector<std::string>{"cpf: type a valid CPF (11 digits)"});
  Json ok = proposals().decide(ctx, token, {{"decision", "accept"}, {"name", "Ana Lima"}, {"cpf", "529.982.247-25"}});
  EXPECT_EQ(ok["status"], "accepted");
  EXPECT_EQ(records.get(ctx, "proposal", id)["decision"]["cpf"], "52998224725");
  EXPECT_EQ(refusal([&] { create("proposal_template", {{"name", "Errado"}, {"html", "{{totall}}"}}); }),
            std::vector<std::string>{"html: names an unknown variable {{totall}}"});
}

INSTANTIATE_TEST_SUITE_P(Backends, ProposalTest, testing::Values(store::Backend::sqlite, store::Backend::postgresql),
                         test::BackendName());

}  // namespace
}  // namespace nucleo::services
