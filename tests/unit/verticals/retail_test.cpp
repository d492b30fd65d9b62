// The retail pack (verticals/retail) on the SDK's fake host: its three file layouts read
// into facts (every identifier's check digit, money in centavos), the figures' arithmetic
// and rounding, and the routes over the fake host's fact sets. tests/e2e/retail_test.cpp
// loads it into a real server and recomputes every figure from the files independently.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nucleo/sdk/testing/fake_host.hpp>

#include "tests/unit/verticals/fixture.hpp"

#include "demo.hpp"
#include "lines.hpp"
#include "metrics.hpp"

extern "C" const nucleo_plugin_descriptor* nucleo_plugin_entry(void);

namespace nucleo::retail {
namespace {

using nucleo::sdk::testing::FakeHost;

using verticals::testing::fixture;

const std::string retailer_id = "acc_01m81dx24qexfr0yymkppg515k";
const std::string cnpj = "11444777000161";
const std::string store = "7891000010112";  // GLN of the fixtures' first store
const std::string coffee = "7891000001011";  // GTIN-13 of their first product

TEST(RetailLines, MoneyIsReadToTheCentavoAndNeverRounded) {
  EXPECT_EQ(cents_of("1.234,56"), 123456);
  EXPECT_EQ(cents_of("1234.56"), 123456);
  EXPECT_EQ(cents_of("12,5"), 1250);
  EXPECT_EQ(cents_of("7"), 700);
  EXPECT_EQ(cents_of("-3,10"), -310);
  EXPECT_FALSE(cents_of("12,345"));  // three decimals: not money, and not rounded into it
  EXPECT_FALSE(cents_of("R$ 10"));
  EXPECT_FALSE(cents_of(""));
  EXPECT_EQ(with_gs1_check_digit("789100001011"), store);
  EXPECT_TRUE(verticals::valid_gtin("96385074"));  // a GTIN-8
  EXPECT_FALSE(verticals::valid_gtin("7891000001012"));
  EXPECT_FALSE(verticals::valid_gln("789100001011"));
}

TEST(RetailLines, EachLineIsAFactOrSaysWhyNot) {
  Header h = header_of(LineKind::sell_out, "period_start;period_end;retailer_cnpj;store_gln;gtin;units;revenue\r");
  verticals::Columns columns(h.columns);
  auto good = fact_of(LineKind::sell_out, columns, h.separator, "07/09/2026;13/09/2026;11.444.777/0001-61;" + store + ";" + coffee + ";13;245,70");
  ASSERT_TRUE(std::holds_alternative<Json>(good));
  EXPECT_EQ(std::get<Json>(good), Json({{"retailer", cnpj}, {"location", store}, {"gtin", coffee}, {"day", "2026-09-13"},
                                        {"units", 13}, {"revenue_cents", 24570}}));
  auto problem = [&](LineKind kind, const Header& header, const std::string& line) {
    auto r = fact_of(kind, verticals::Columns(header.columns), header.separator, line);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("(a fact)");
  };
  EXPECT_NE(problem(LineKind::sell_out, h, "07/09/2026;13/09/2026;11444777000160;" + store + ";" + coffee + ";1;1,00").find("CNPJ"), std::string::npos);
  EXPECT_NE(problem(LineKind::sell_out, h, "07/09/2026;13/09/2026;" + cnpj + ";7891000010113;" + coffee + ";1;1,00").find("STORE_GLN"), std::string::npos);
  EXPECT_NE(problem(LineKind::sell_out, h, "07/09/2026;13/09/2026;" + cnpj + ";" + store + ";7891000001012;1;1,00").find("GTIN"), std::string::npos);
  EXPECT_NE(problem(LineKind::sell_out, h, "07/09/2026;31/09/2026;" + cnpj + ";" + store + ";" + coffee + ";1;1,00").find("PERIOD_END"), std::string::npos);
  EXPECT_NE(problem(LineKind::sell_out, h, "14/09/2026;13/09/2026;" + cnpj + ";" + store + ";" + coffee + ";1;1,00").find("PERIOD_START"), std::string::npos);
  EXPECT_NE(problem(LineKind::sell_out, h, "07/09/2026;13/09/2026;" + cnpj + ";" + store + ";" + coffee + ";1,5;1,00").find("UNITS"), std::string::npos);
  EXPECT_EQ(problem(LineKind::sell_out, h, "07/09/2026;13/09/2026;" + cnpj + ";" + store + ";" + coffee + ";-2;-37,80"), "(a fact)");  // a return
  Header stock = header_of(LineKind::inventory, "date,retailer_cnpj,gln,gtin,on_hand");
  EXPECT_EQ(stock.separator, ',');
  EXPECT_NE(problem(LineKind::inventory, stock, "2026-09-13," + cnpj + "," + store + "," + coffee + ",-1").find("0 or more"), std::string::npos);
  EXPECT_THROW(header_of(LineKind::sell_in, "date;cnpj;gtin"), sdk::Error);
}

TEST(RetailMetrics, FiguresFollowTheirFormulasWithOneRoundingEach) {
  Flows f;
  f.opening = 40, f.opening_snapshots = 1, f.received = 60, f.sold = 67, f.revenue_cents = 126630;
  f.closing = 31, f.closing_snapshots = 1, f.window_sold = 67, f.snapshots = 4, f.empty_snapshots = 1;
  Json x = figures(f, 28);
  EXPECT_EQ(x["channel_inventory"], 33);             // 40 + 60 - 67
  EXPECT_EQ(x["reconciliation_difference"], -2);     // 31 reported
  EXPECT_EQ(x["sell_through_percent"], 67.0);        // 67 / 100
  EXPECT_EQ(x["avg_daily_sell_out"], 2.39);          // 67 / 28 = 2.392…
  EXPECT_EQ(x["coverage_days"], 12.96);              // 31 × 28 / 67 = 12.955…
  EXPECT_EQ(x["weeks_of_supply"], 1.85);             // 12.955… / 7 = 1.8507…
  EXPECT_EQ(x["out_of_stock_percent"], 25.0);
  EXPECT_EQ(x["sell_in_sell_out_ratio"], 0.9);       // 60 / 67 = 0.8955…
  EXPECT_EQ(rounded_ratio(1, 8), 0.13);              // 0.125: half away from zero
  EXPECT_EQ(rounded_ratio(-1, 8), -0.13);
  Flows empty;
  Json none = figures(empty, 28);
  EXPECT_TRUE(none["coverage_days"].is_null());
  EXPECT_TRUE(none["sell_through_percent"].is_null());
  EXPECT_TRUE(none["opening_on_hand"].is_null());
  EXPECT_EQ(none["avg_daily_sell_out"], 0.0);
  // 12.96 days is below 14: enough for 28 days of 67/28 a day is 67, 31 on hand → 36.
  EXPECT_EQ(reorder_units(f, 28, 14, 28), 36);
  EXPECT_FALSE(reorder_units(f, 28, 12, 28));
  EXPECT_FALSE(reorder_units(empty, 28, 14, 28));
}

class RetailPack : public testing::Test {
 protected:
  void SetUp() override {
    host.use_manifest(nucleo::sdk::testing::read_json(std::string(NUCLEO_SOURCE_DIR) + "/verticals/retail/plugin.json"));
    host.load(&nucleo_plugin_entry);
    host.services["records.get"] = [](const Json& r) {
      if (r["id"] != retailer_id) throw sdk::Error(NUCLEO_NOT_FOUND, "no account");
      return Json{{"id", retailer_id}, {"legal_name", "Supermercados Vale"}, {"tax_id", cnpj}, {"owner_id", "usr_kam"}};
    };
    host.services["records.create"] = [this](const Json& r) {
      created.push_back(r);
      return Json{{"id", "tsk_1"}};
    };
    for (const char* file : {"sell_out_12w.csv", "sell_in_12w.csv", "inventory_12w.csv"}) {
      std::string name(file);
      std::string format = name.rfind("sell_out", 0) == 0 ? "retail_sell_out" : name.rfind("sell_in", 0) == 0 ? "retail_sell_in" : "retail_inventory";
      Json rows = host.import_file(format, fixture(file), 1000);
      for (const auto& r : rows) ASSERT_TRUE(r.contains("fact")) << file << ": " << r;
      host.write_facts(rows);
    }
  }
  FakeHost host;
  std::vector<Json> created;
};

TEST_F(RetailPack, TheFilesBecomeFactsOfTheirSets) {
  EXPECT_EQ(host.facts["sell_out"].size(), 144u);  // 3 stores × 4 products × 12 weeks
  EXPECT_EQ(host.facts["inventory"].size(), 156u);  // and the opening Sunday
  EXPECT_EQ(host.facts["sell_in"].size(), 87u);
  Json rows = host.import_file("retail_sell_in", "date;retailer_cnpj;gln;gtin;units;value\n2026-09-20;" + cnpj + ";" + store + ";" + coffee + ";27;306,185\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0]["error"].get<std::string>().find("VALUE"), std::string::npos) << rows;
}

TEST_F(RetailPack, ARetailersFiguresAreItsStoresSummed) {
  Json query{{"period_start", "2026-11-02"}, {"period_end", "2026-11-29"}, {"by", "store,product"}};
  auto answer = host.request("GET", "/retailers/" + retailer_id + "/performance", Json::object(), Json::object(), query);
  ASSERT_EQ(answer.status, 200);
  const Json& totals = answer.body["totals"];
  ASSERT_EQ(answer.body["stores"].size(), 4u) << answer.body;  // three stores and the distribution centre
  ASSERT_EQ(answer.body["products"].size(), 4u);
  std::int64_t sold = 0, received = 0, opening = 0, closing = 0;
  for (const auto& s : answer.body["stores"]) {
    sold += s["sell_out_units"].get<std::int64_t>();
    received += s["sell_in_units"].get<std::int64_t>();
    if (s["opening_on_hand"].is_null()) {  // the distribution centre reports no stock
      EXPECT_EQ(s["sell_out_units"], 0);
      continue;
    }
    opening += s["opening_on_hand"].get<std::int64_t>();
    closing += s["closing_on_hand"].get<std::int64_t>();
    EXPECT_EQ(s["reconciliation_difference"], 0) << s;  // the synthetic stores report what flowed
  }
  EXPECT_EQ(totals["sell_out_units"], sold);
  EXPECT_EQ(totals["sell_in_units"], received);
  EXPECT_EQ(totals["opening_on_hand"], opening);
  EXPECT_EQ(totals["closing_on_hand"], closing);
  std::int64_t product_sold = 0;
  for (const auto& p : answer.body["products"]) product_sold += p["sell_out_units"].get<std::int64_t>();
  EXPECT_EQ(product_sold, sold);
  EXPECT_THROW(host.request("GET", "/retailers/" + retailer_id + "/performance", Json::object(), Json::object(), {{"by", "region"}}),
               sdk::Error);
  EXPECT_THROW(host.request("GET", "/retailers/acc_other/performance"), sdk::Error);
}

TEST_F(RetailPack, ALowCoverageBecomesOneTaskOnTheRetailer) {
  host.settings = {{"reorder_coverage_days", 20}};
  host.role = "sales";
  auto answer = host.request("POST", "/retailers/" + retailer_id + "/reorder-check", Json::object(), Json::object(),
                             {{"period_end", "2026-11-29"}});
  ASSERT_EQ(answer.status, 200);
  ASSERT_GT(answer.body["suggestions"].get<int>(), 0) << answer.body;
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]["type"], "task");
  EXPECT_EQ(created[0]["data"]["assignee_id"], "usr_kam");
  EXPECT_EQ(created[0]["idempotency_key"], "retail:reorder:" + retailer_id + ":2026-11-29");
  EXPECT_EQ(host.records["reorder_suggestions"].size(), answer.body["suggestions"].get<std::size_t>());
  const Json& first = answer.body["items"][0];
  EXPECT_LT(first["coverage_days"].get<double>(), 20.0);
  host.role = "support";
  EXPECT_THROW(host.request("POST", "/retailers/" + retailer_id + "/reorder-check"), sdk::Error);
}

}  // namespace
}  // namespace nucleo::retail
