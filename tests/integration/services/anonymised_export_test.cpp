// Issue #30, deliverable 5, on both backends: the anonymised export keeps the shape of the
// sales process — deals, stages, amounts, days, kinds of interaction — and nothing of a
// person survives it: no name, e-mail, phone, CPF or id, wherever the corpus hid them.
#include "kernel/services/anonymised_export.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"
#include "tests/support/service_harness.hpp"

namespace nucleo::services {
namespace {

class AnonymisedExportTest : public testing::TestWithParam<store::Backend> {
 protected:
  AnonymisedExportTest() : h(GetParam()), records(h.records()), ctx(h.context(h.tenant)) {}

  std::vector<Json> exported(const CallContext& as) {
    std::vector<Json> lines;
    AnonymisedExport exporter(h.deps());
    exporter.begin(as);
    exporter.run(as, [&](const Json& line) {
      lines.push_back(line);
      return true;
    });
    return lines;
  }

  test::ServiceHarness h;
  RecordService records;
  CallContext ctx;
};

TEST_P(AnonymisedExportTest, NothingOfAPersonSurvivesAndTheSalesProcessDoes) {
  h.attribute_schemas.add("org.nucleo.agro", "deal",
                          {{"agro.area_ha", {{"type", "integer"}}},
                           {"agro.notes", {{"type", "string"}}},
                           {"agro.producer_phone", {{"type", "integer"}, {"personal", true}}}});
  std::string user = records.create(ctx, "user", {{"name", "Rita Vendedora"}, {"email", "rita@fornecedor.com.br"},
                                                  {"role", "sales"}}).record["id"];
  std::string coop = records.create(ctx, "account", {{"legal_name", "Cooperativa Agro Sul"}}).record["id"];
  std::string producer = records.create(ctx, "account", {{"legal_name", "Maria Aparecida Souza"},
                                                         {"tax_id", "529.982.247-25"}}).record["id"];
  std::string maria = records.create(ctx, "contact", {{"name", "Maria Aparecida Souza"}, {"email", "maria.souza@agro.com.br"},
                                                      {"phone", "+55 11 98765-4321"}, {"account_id", producer}})
                          .record["id"];
  std::string pipeline = records.create(ctx, "pipeline", {{"name", "Vendas de sementes"}}).record["id"];
  std::string first = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Visita à Maria"}, {"position", 1},
                                                    {"probability", 20}}).record["id"];
  std::string won = records.create(ctx, "stage", {{"pipeline_id", pipeline}, {"name", "Fechado"}, {"position", 2},
                                                  {"probability", 100}, {"kind", "won"}}).record["id"];
  std::string personal_deal =
      records.create(ctx, "deal", {{"name", "Proposta Maria Aparecida Souza"}, {"account_id", producer},
                                   {"pipeline_id", pipeline}, {"stage_id", first}, {"amount", 15000000},
                                   {"owner_id", user}, {"expected_close", "2026-09-30"},
                                   {"contacts", {{{"contact_id", maria}, {"role", "compradora"}}}},
                                   {"lost_reason", "ligar para maria.souza@agro.com.br"},
                                   {"attributes", {{"agro.area_ha", 120}, {"agro.notes", "CPF 529.982.247-25"},
                                                   {"agro.producer_phone", 11987654321}}}})
          .record["id"];
  std::string coop_deal = records.create(ctx, "deal", {{"name", "Safra 2026 – Coop"}, {"account_id", coop},
                                                       {"pipeline_id", pipeline}, {"stage_id", first}, {"amount", 990000}})
                              .record["id"];
  h.clock.advance_micros(3 * 86'400'000'000LL);
  records.move_deal_stage(ctx, coop_deal, won, std::nullopt, "");
  records.log_interaction(ctx, {{"type", "call"}, {"direction", "outbound"}, {"contact_id", maria},
                                {"account_id", producer}, {"deal_id", personal_deal},
                                {"subject", "Ligação para Maria Aparecida Souza"},
                                {"body", "Maria pediu retorno no +55 11 98765-4321 ou maria.souza@agro.com.br"}});
  records.log_interaction(ctx, {{"type", "meeting"}, {"direction", "internal"}, {"account_id", coop},
                                {"deal_id", coop_deal}, {"body", "Reunião com a diretoria"}});

  std::vector<Json> lines = exported(ctx);
  ASSERT_EQ(lines.size(), 4u);
  std::string all;
  for (const auto& line : lines) all += line.dump() + "\n";
  for (const std::string& secret : {std::string("Maria"), std::string("Souza"), std::string("maria.souza"),
                                    std::string("98765"), std::string("987654321"), std::string("52998224725"),
                                    std::string("529.982"), std::string("Rita"), std::string("Visita"),
                                    std::string("Proposta"), std::string("compradora"), std::string("diretoria"),
                                    maria, producer, coop, personal_deal, coop_deal, user, pipeline, first, h.tenant})
    EXPECT_EQ(all.find(secret), std::string::npos) << secret << " survived:\n" << all;

  // What analytics needs stays: deals with their stages, amounts and days, then interactions.
  const Json& deal_of_a_person = lines[0]["amount"] == 15000000 ? lines[0] : lines[1];
  const Json& coop_line = lines[0]["amount"] == 15000000 ? lines[1] : lines[0];
  EXPECT_EQ(deal_of_a_person["record"], "deal");
  EXPECT_TRUE(deal_of_a_person["account"].is_null());  // a CPF account is a person: no key
  EXPECT_EQ(deal_of_a_person["contacts"], 1);
  EXPECT_EQ(deal_of_a_person["expected_close_month"], "2026-09");
  EXPECT_EQ(deal_of_a_person["attributes"], (Json{{"agro.area_ha", 120}}));
  EXPECT_EQ(deal_of_a_person["stage"], (Json{{"position", 1}, {"kind", "open"}, {"probability", 20}}));
  EXPECT_EQ(coop_line["status"], "won");
  EXPECT_EQ(coop_line["account"], "a1");
  ASSERT_EQ(coop_line["stage_history"].size(), 2u) << coop_line;
  EXPECT_EQ(coop_line["stage_history"][0]["days"], 3);
  EXPECT_EQ(coop_line["stage_history"][1]["current"], true);
  EXPECT_EQ(lines[2]["record"], "interaction");
  EXPECT_EQ(lines[3]["record"], "interaction");
  std::set<std::string> linked{lines[2]["deal"].get<std::string>(), lines[3]["deal"].get<std::string>()};
  EXPECT_EQ(linked, (std::set<std::string>{deal_of_a_person["key"], coop_line["key"]}));

  // Keys are new in every export: two exports do not join on them by design beyond order.
  EXPECT_EQ(exported(ctx).size(), 4u);

  CallContext sales = ctx;
  auto seller = std::make_shared<Principal>();
  seller->role = "sales";
  sales.principal = seller;
  EXPECT_THROW(exported(sales), Error);
  CallContext other = h.context(h.create_tenant("Outra"));
  EXPECT_TRUE(exported(other).empty());  // another tenant's export holds none of these
}

INSTANTIATE_TEST_SUITE_P(Backends, AnonymisedExportTest, testing::Values(store::Backend::postgresql, store::Backend::sqlite),
                         [](const auto& info) { return info.param == store::Backend::sqlite ? "sqlite" : "postgresql"; });

}  // namespace
}  // namespace nucleo::services
