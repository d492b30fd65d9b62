// Issue #28: the retail pack (verticals/retail) loaded into a real server on both
// backends: sell-in, sell-out and inventory files imported as fact sets (plugin ABI 1.8),
// every figure of a retailer, its stores and its products recomputed here from the files
// alone, bad lines reported one by one, reorder suggestions, the briefing, another
// tenant and the roles. Unit tests: tests/unit/verticals/retail_test.cpp.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/e2e/pack_fixture.hpp"

namespace nucleo::test {
namespace {

const std::string pack = "/v1/x/org.nucleo.retail";
const std::string cnpj = "11444777000161";

// ---- The figures, computed from the files without the pack -----------------------------

std::vector<std::vector<std::string>> lines_of(const std::string& name) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(PackFixture::fixture(name));
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream fields(line);
    while (std::getline(fields, cell, ';')) cells.push_back(cell);
    if (line.back() == ';') cells.emplace_back();
    out.push_back(cells);
  }
  return out;
}

std::string iso(const std::string& date) {  // dd/mm/yyyy or yyyy-mm-dd
  return date[2] == '/' ? date.substr(6, 4) + "-" + date.substr(3, 2) + "-" + date.substr(0, 2) : date;
}

long long cents(std::string money) {  // 1.234,56 → 123456
  std::string digits;
  for (char c : money)
    if (c != '.' && c != ',') digits += c;
  return std::stoll(digits);
}

// Half away from zero to two decimals, as docs/verticals/retail.md says: hundredths are
// the whole part of (|num| × 100 + den / 2) ÷ den.
Json ratio(long long num, long long den) {
  if (den == 0) return nullptr;
  long long magnitude = (std::llabs(num) * 100 * 2 + den) / (2 * den);
  return static_cast<double>(num < 0 ? -magnitude : magnitude) / 100.0;
}

struct Expected {
  long long in = 0, out = 0, revenue = 0, window = 0, opening = 0, closing = 0, snaps = 0, empty = 0;
  bool opened = false, closed = false;
  Json figures(int window_days) const {
    return {{"sell_in_units", in},
            {"sell_out_units", out},
            {"sell_out_revenue_cents", revenue},
            {"opening_on_hand", opened ? Json(opening) : Json()},
            {"closing_on_hand", closed ? Json(closing) : Json()},
            {"channel_inventory", opened ? Json(opening + in - out) : Json()},
            {"reconciliation_difference", opened && closed ? Json(closing - (opening + in - out)) : Json()},
            {"sell_through_percent", opened ? ratio(out * 100, opening + in) : Json()},
            {"avg_daily_sell_out", ratio(window, window_days)},
            {"coverage_days", closed && window > 0 ? ratio(closing * window_days, window) : Json()},
            {"weeks_of_supply", closed && window > 0 ? ratio(closing * window_days, window * 7) : Json()},
            {"out_of_stock_percent", snaps ? ratio(empty * 100, snaps) : Json()},
            {"sell_in_sell_out_ratio", out ? ratio(in, out) : Json()}};
  }
};

// key(location, gtin) → the group a line counts in ("" for the retailer's total).
std::map<std::string, Expected> expected(const std::string& start, const std::string& end, const std::string& window_start,
                                         const std::string& before, int level) {
  std::map<std::string, Expected> out;
  auto group = [&](const std::string& location, const std::string& gtin) -> Expected& {
    return out[level == 0 ? "" : level == 1 ? location : gtin];
  };
  for (const auto& l : lines_of("sell_out_12w.csv")) {  // period_start;period_end;cnpj;gln;gtin;units;revenue
    std::string day = iso(l[1]);
    Expected& e = group(l[3], l[4]);
    if (day >= start && day <= end) e.out += std::stoll(l[5]), e.revenue += cents(l[6]);
    if (day >= window_start && day <= end) e.window += std::stoll(l[5]);
  }
  for (const auto& l : lines_of("sell_in_12w.csv")) {  // date;cnpj;gln;gtin;units;value
    std::string day = iso(l[0]);
    if (day >= start && day <= end) group(l[2], l[3]).in += std::stoll(l[4]);
  }
  for (const auto& l : lines_of("inventory_12w.csv")) {  // date;cnpj;gln;gtin;on_hand
    std::string day = iso(l[0]);
    Expected& e = group(l[2], l[3]);
    long long units = std::stoll(l[4]);
    if (day == before) e.opening += units, e.opened = true;
    if (day == end) e.closing += units, e.closed = true;
    if (day >= start && day <= end) e.snaps += 1, e.empty += units == 0;
  }
  return out;
}

class Retail : public PackFixture {
 protected:
  Retail() : PackFixture("retail", RETAIL_PLUGIN_DIR) {}
  Json imported(const std::string& file, const std::string& format) {
    auto queued = upload_import(fixture(file), {{"format", format}}, "", file);
    EXPECT_EQ(queued.status, 202) << queued.raw.body;
    return finished_import(queued.body["id"]);
  }
};

TEST_P(Retail, EveryFigureOfARetailerItsStoresAndProductsMatchesTheFiles) {
  std::string kam, kam_key = user_key(h->tenant, "sales", &kam);
  std::string retailer = create("/v1/accounts", {{"legal_name", "Supermercados Vale Ltda"}, {"tax_id", cnpj}, {"owner_id", kam},
                                                 {"attributes", {{"retail.role", "retailer"}}}});
  Json sell_out = imported("sell_out_12w.csv", "retail_sell_out");
  ASSERT_EQ(sell_out["status"], "done") << sell_out;
  EXPECT_EQ(sell_out["progress"]["created"], 144);
  EXPECT_EQ(imported("sell_in_12w.csv", "retail_sell_in")["progress"]["created"], 87);
  EXPECT_EQ(imported("inventory_12w.csv", "retail_inventory")["progress"]["created"], 156);
  // Facts are audited per batch of an import, not per line.
  Json audited = until("/v1/audit/events?limit=200&action=plugin_facts.written",
                       [](const Json& page) { return page.value("data", Json::array()).size() >= 3; });
  EXPECT_NE(audited.dump().find("org.nucleo.retail/sell_out"), std::string::npos);

  for (const auto& period : {std::pair<std::string, std::string>{"2026-11-02", "2026-11-29"},
                            std::pair<std::string, std::string>{"2026-09-07", "2026-11-29"},
                            std::pair<std::string, std::string>{"2026-10-05", "2026-10-18"}}) {
    const std::string& start = period.first;  // named, not bound: Clang 14 cannot capture bindings
    const std::string& end = period.second;
    std::string window_start = end == "2026-10-18" ? "2026-09-21" : "2026-11-02";  // 28 days ending on `end`
    std::string before = start == "2026-11-02" ? "2026-11-01" : start == "2026-09-07" ? "2026-09-06" : "2026-10-04";
    auto answer = call("GET", pack + "/retailers/" + retailer + "/performance?period_start=" + start + "&period_end=" + end +
                                  "&by=store,product", kam_key);
    ASSERT_EQ(answer.status, 200) << answer.raw.body;
    EXPECT_EQ(answer.body["window_days"], 28);
    auto check = [&](const Json& shown, const Json& wanted, const std::string& what) {
      for (const auto& [name, value] : wanted.items()) EXPECT_EQ(shown[name], value) << what << " " << name << " " << start;
    };
    check(answer.body["totals"], expected(start, end, window_start, before, 0)[""].figures(28), "the retailer");
    auto stores = expected(start, end, window_start, before, 1);
    ASSERT_EQ(answer.body["stores"].size(), stores.size());
    for (const auto& s : answer.body["stores"]) check(s, stores[s["gln"]].figures(28), "store " + s["gln"].get<std::string>());
    auto products = expected(start, end, window_start, before, 2);
    ASSERT_EQ(answer.body["products"].size(), products.size());
    for (const auto& p : answer.body["products"]) check(p, products[p["gtin"]].figures(28), "product " + p["gtin"].get<std::string>());
  }
  // The starved product of the third store shows its empty shelves.
  auto all = call("GET", pack + "/retailers/" + retailer + "/performance?period_start=2026-09-07&period_end=2026-11-29&by=store", kam_key);
  double worst = 0;
  for (const auto& s : all.body["stores"])
    if (!s["out_of_stock_percent"].is_null()) worst = std::max(worst, s["out_of_stock_percent"].get<double>());  // not the DC's
  EXPECT_GT(worst, 0.0) << all.body;

  EXPECT_EQ(call("GET", pack + "/retailers/" + retailer + "/performance?period_start=2026-12-01&period_end=2026-11-01", kam_key).status, 422);
  EXPECT_EQ(call("GET", pack + "/retailers/" + retailer + "/performance?by=region", kam_key).status, 422);
  EXPECT_EQ(call("GET", pack + "/retailers/" + retailer + "/performance", user_key(h->tenant, "sales")).status, 404);  // another rep's
  std::string other = h->create_tenant("Outro fornecedor");
  EXPECT_EQ(call("GET", pack + "/retailers/" + retailer + "/performance", user_key(other, "admin")).status, 404);
  // Another tenant's retailer with the same CNPJ sees none of these facts.
  std::string theirs = create("/v1/accounts", {{"legal_name", "Supermercados Vale Ltda"}, {"tax_id", cnpj}}, user_key(other, "admin"));
  auto empty = call("GET", pack + "/retailers/" + theirs + "/performance?period_start=2026-11-02&period_end=2026-11-29",
                    user_key(other, "admin"));
  ASSERT_EQ(empty.status, 200) << empty.raw.body;
  EXPECT_EQ(empty.body["totals"]["sell_out_units"], 0);
}

TEST_P(Retail, BadLinesAreReportedOneByOneAndAReimportReplacesFacts) {
  std::string header = "period_start;period_end;retailer_cnpj;store_gln;gtin;units;revenue\n";
  std::string good = "07/09/2026;13/09/2026;" + cnpj + ";7891000010112;7891000001011;13;245,70\n";
  Json first = finished_import(upload_import(header + good +
                                                 "07/09/2026;13/09/2026;" + cnpj + ";7891000010113;7891000001011;13;245,70\n" +
                                                 "07/09/2026;13/09/2026;" + cnpj + ";7891000010112;7891000001011;13;245,705\n",
                                             {{"format", "retail_sell_out"}}, "", "bad.csv")
                                   .body["id"]);
  EXPECT_EQ(first["status"], "done") << first;
  EXPECT_EQ(first["progress"]["created"], 1);
  EXPECT_EQ(first["progress"]["failed"], 2);
  auto errors = call_raw("GET", "/v1/imports/" + first["id"].get<std::string>() + "/errors", admin, "");
  EXPECT_NE(errors.raw.body.find("STORE_GLN"), std::string::npos) << errors.raw.body;
  EXPECT_NE(errors.raw.body.find("REVENUE"), std::string::npos);
  // The same week again, corrected: the fact is replaced, not added.
  Json again = finished_import(upload_import(header + "07/09/2026;13/09/2026;" + cnpj + ";7891000010112;7891000001011;15;283,50\n" + good.substr(0, 0),
                                             {{"format", "retail_sell_out"}}, "", "fix.csv")
                                   .body["id"]);
  EXPECT_EQ(again["progress"]["updated"], 1) << again << call_raw("GET", "/v1/imports/" + again["id"].get<std::string>() + "/errors", admin, "").raw.body;
  std::string retailer = create("/v1/accounts", {{"legal_name", "Supermercados Vale Ltda"}, {"tax_id", cnpj}});
  auto week = call("GET", pack + "/retailers/" + retailer + "/performance?period_start=2026-09-07&period_end=2026-09-13", admin);
  EXPECT_EQ(week.body["totals"]["sell_out_units"], 15) << week.raw.body;
  EXPECT_EQ(week.body["totals"]["sell_out_revenue_cents"], 28350);
  // A dry run reports and writes nothing.
  Json dry = finished_import(upload_import(header + "14/09/2026;20/09/2026;" + cnpj + ";7891000010112;7891000001011;9;170,10\n",
                                           {{"format", "retail_sell_out"}, {"dry_run", "true"}}, "", "dry.csv")
                                 .body["id"]);
  EXPECT_EQ(dry["progress"]["created"], 1) << dry;
  EXPECT_EQ(call("GET", pack + "/retailers/" + retailer + "/performance?period_start=2026-09-14&period_end=2026-09-20", admin)
                .body["totals"]["sell_out_units"],
            0);
  // A file of another layout is refused whole.
  Json refused = finished_import(upload_import("data;loja;ean\n", {{"format", "retail_sell_out"}}, "", "x.csv").body["id"]);
  EXPECT_EQ(refused["status"], "failed");
  EXPECT_NE(refused.dump().find("the header lacks"), std::string::npos) << refused;
}

TEST_P(Retail, LowCoverageBecomesATaskOrADealOnTheRetailer) {
  std::string kam, kam_key = user_key(h->tenant, "sales", &kam);
  std::string retailer = create("/v1/accounts", {{"legal_name", "Supermercados Vale Ltda"}, {"tax_id", cnpj}, {"owner_id", kam}});
  for (const auto& [file, format] : {std::pair<std::string, std::string>{"sell_out_12w.csv", "retail_sell_out"},
                                     {"sell_in_12w.csv", "retail_sell_in"}, {"inventory_12w.csv", "retail_inventory"}})
    ASSERT_EQ(imported(file, format)["status"], "done");
  create(pack + "/products", {{"gtin", "7891000001011"}, {"description", "Café torrado e moído 500 g"}, {"list_price_cents", 1890}});
  EXPECT_EQ(call("POST", pack + "/products", kam_key, {{"gtin", "7891000001012"}, {"description", "x"}}).status, 403);  // sales do not
  EXPECT_EQ(call("POST", pack + "/products", admin, {{"gtin", "7891000001012"}, {"description", "x"}}).status, 422);  // check digit
  ASSERT_EQ(call("PUT", "/v1/plugins/org.nucleo.retail/settings", admin, {{"settings", {{"reorder_coverage_days", 20}}}}).status, 200);
  EXPECT_EQ(call("POST", pack + "/retailers/" + retailer + "/reorder-check?period_end=2026-11-29", user_key(h->tenant, "support")).status, 403);
  auto check = call("POST", pack + "/retailers/" + retailer + "/reorder-check?period_end=2026-11-29", kam_key);
  ASSERT_EQ(check.status, 200) << check.raw.body;
  ASSERT_GT(check.body["suggestions"].get<int>(), 0) << check.body;
  Json tasks = call("GET", "/v1/tasks?account_id=" + retailer, kam_key).body;
  ASSERT_EQ(tasks["data"].size(), 1u) << tasks;
  EXPECT_EQ(tasks["data"][0]["assignee_id"], kam);
  EXPECT_NE(tasks["data"][0]["title"].get<std::string>().find("Reposição sugerida"), std::string::npos);
  EXPECT_EQ(call("POST", pack + "/retailers/" + retailer + "/reorder-check?period_end=2026-11-29", kam_key).body["task_id"],
            check.body["task_id"]);  // once per retailer and day
  Json timeline = call("GET", "/v1/accounts/" + retailer + "/timeline?limit=20", kam_key).body;
  EXPECT_NE(timeline.dump().find("org.nucleo.retail.reorder_suggestions"), std::string::npos);

  // With a stage, the suggestion is a deal valued at list prices.
  std::string pipeline = create("/v1/pipelines", {{"name", "Reposição"}});
  std::string stage = create("/v1/stages", {{"pipeline_id", pipeline}, {"name", "Sugerida"}, {"position", 1}});
  ASSERT_EQ(call("PUT", "/v1/plugins/org.nucleo.retail/settings", admin,
                 {{"settings", {{"reorder_coverage_days", 20}, {"reorder_stage_id", stage}}}}).status,
            200);
  auto deal_check = call("POST", pack + "/retailers/" + retailer + "/reorder-check?period_end=2026-11-22", kam_key);
  ASSERT_EQ(deal_check.status, 200) << deal_check.raw.body;
  if (deal_check.body["suggestions"].get<int>() > 0) {
    auto deal = call("GET", "/v1/deals/" + deal_check.body["deal_id"].get<std::string>(), kam_key);
    ASSERT_EQ(deal.status, 200) << deal.raw.body;
    std::int64_t coffee_units = 0;
    for (const auto& i : deal_check.body["items"])
      if (i["gtin"] == "7891000001011") coffee_units += i["units"].get<std::int64_t>();
    EXPECT_EQ(deal.body["amount"], coffee_units * 1890);  // only the coffee has a list price
  }
  auto briefing = call("GET", "/v1/accounts/" + retailer + "/briefing", kam_key);
  EXPECT_EQ(briefing.body["sections"]["org.nucleo.retail.retail"]["data"]["retailer"], true) << briefing.raw.body;
}

TEST_P(Retail, TheVerticalDemoSeedsRetailersAndTheirWeeks) {
  auto demo = PackFixture::demo();
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  Json shown = Json::parse(demo.out);
  EXPECT_EQ(shown["counts"].value("org.nucleo.retail facts sell_out", 0), 3 * 6 * 8 * 12) << shown;
  EXPECT_EQ(shown["counts"].value("org.nucleo.retail locations", 0), 21);
  std::string key = shown["admin_key"];
  Json retailers = call("POST", "/v1/accounts/search", key,
                        {{"filter_groups", {{{"filters", {{{"field", "attributes.retail.role"}, {"op", "eq"}, {"value", "retailer"}}}}}}}})
                       .body;
  ASSERT_EQ(retailers["data"].size(), 3u) << retailers;
  auto figures = call("GET", pack + "/retailers/" + retailers["data"][0]["id"].get<std::string>() + "/performance?by=store", key);
  ASSERT_EQ(figures.status, 200) << figures.raw.body;
  EXPECT_GT(figures.body["totals"]["sell_out_units"].get<std::int64_t>(), 0) << figures.body;
  EXPECT_EQ(figures.body["stores"].size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Retail, testing::Values(store::Backend::sqlite, store::Backend::postgresql), BackendName());

}  // namespace
}  // namespace nucleo::test
