// The retail vertical pack (docs/verticals/retail.md), against the SDK alone: retailers
// and their stores and distribution centres by GLN, products by GTIN, sell-in, sell-out
// and inventory files imported as fact sets (plugin ABI 1.8), the figures a supplier runs
// its retail business by — sell-through, coverage, weeks of supply, channel inventory
// reconciled, out-of-stock rate, sell-in/sell-out ratio — per retailer, store and product,
// and reorder suggestions as a task or a deal on the retailer.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "common/dates.hpp"
#include "common/pack.hpp"
#include "demo.hpp"
#include "lines.hpp"
#include "metrics.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::retail {
namespace {

using nucleo::sdk::Auth;
using nucleo::sdk::Caller;
using nucleo::sdk::Error;
using nucleo::sdk::Host;
using nucleo::sdk::Request;
using nucleo::sdk::Response;

using verticals::add_days;
using verticals::date_of_micros;
using verticals::each_document;
using verticals::text;

using verticals::utf8_line;

// A period and the trailing window ending on its last day.
struct Period {
  std::string start, end, window_start, before;  // before: the day whose stock opens the period
  int window_days = 28;
};

// Sums per group of the three fact sets, merged: group key (the dimension values joined)
// → flows.
using FlowsByGroup = std::map<std::string, Flows>;

class Retail : public nucleo::sdk::Plugin {
 public:
  void init(Host& host, const Json&) override {
    host_ = &host;
    host.declare_attributes("account", {{"retail.role", {{"type", "string"}, {"enum", {"retailer", "distributor", "wholesaler"}},
                                                         {"description", "what the account is to the supplier"}}},
                                        {"retail.banner", {{"type", "string"}, {"maxLength", 120}}}});
    for (LineKind kind : {LineKind::sell_in, LineKind::sell_out, LineKind::inventory}) {
      std::string columns;
      for (const auto& c : required_columns(kind)) columns += (columns.empty() ? "" : ";") + c;
      host.line_importer({{"name", format_name_of(kind)},
                          {"title", "Retail " + fact_set_of(kind) + " lines (" + columns + ")"},
                          {"media_types", {"text/csv", "text/plain"}},
                          {"mapping", {{"entity", "account"}, {"columns", {{"retailer_cnpj", "tax_id"}}}}}},
                         [kind](const Host::ImportLine& line) { return fact_line(kind, line); });
    }
    host.route("GET", "/retailers/{account_id}/performance", Auth::bearer, [this](const Request& r) { return performance(r); });
    host.route("POST", "/retailers/{account_id}/reorder-check", Auth::bearer, [this](const Request& r) {
      Caller who = r.caller();
      if (!who.unrestricted() && who.role != "admin" && who.role != "manager" && who.role != "sales" && who.role != "integration")
        throw Error(NUCLEO_FORBIDDEN, "the " + who.role + " role may not run a reorder check");
      Json account = retailer(r.call, r.param("account_id"));
      std::string end = day_parameter(r, "period_end", add_days(date_of_micros(host_->now_micros(r.call)), -1));
      return Response{200, reorder_check(r.call, account, end)};
    });
    host.briefing_section("retail", "Retail (sell-in / sell-out)",
                          [this](const nucleo_call* call, const Json& account) { return briefing(call, account); });
    // Mondays: every retailer's reorder check up to the day before.
    host.job("reorder-check", "cron 0 6 * * 1", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      std::string end = add_days(date_of_micros(host_->now_micros(j.call)), -1);
      for (const auto& a : verticals::records_where(*host_, j.call, "account",
                                                    Json::array({{{"field", "attributes.retail.role"}, {"op", "eq"}, {"value", "retailer"}}})))
        if (verticals::valid_cnpj(text(a, "tax_id"))) reorder_check(j.call, a, end);
    }, "tenant");
    // `nucleo demo --vertical retail` runs it once in the new demo tenant.
    host.job("demo", "", nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) {
      Json written = seed_demo(*host_, j.call, j.payload().value("seed", 20261204u));
      host_->log(nucleo::sdk::Level::info, "demo data: " + written.dump());
    });
  }

 private:
  // ---- The imports ----------------------------------------------------------------------

  static Json fact_line(LineKind kind, const Host::ImportLine& line) {
    if (line.number == 1) {
      Header header = header_of(kind, utf8_line(line.text));
      line.kept = {{"columns", header.columns}, {"separator", std::string(1, header.separator)}};
      return nullptr;
    }
    std::string row = utf8_line(line.text);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (row.empty()) return nullptr;
    auto fact = fact_of(kind, verticals::Columns(line.kept["columns"].get<std::vector<std::string>>()),
                        line.kept["separator"].get<std::string>()[0], row);
    if (auto* problem = std::get_if<std::string>(&fact)) return {{"error", *problem}};
    return {{"fact", {{"set", fact_set_of(kind)}, {"row", std::get<Json>(fact)}}}};
  }

  // ---- The figures ----------------------------------------------------------------------

  static std::string day_parameter(const Request& r, const char* name, const std::string& fallback) {
    std::string given = r.query(name);
    if (given.empty()) return fallback;
    auto date = verticals::iso_date(given);
    if (!date || *date != given) throw Error(NUCLEO_INVALID_ARGUMENT, std::string(name) + " must be a date, YYYY-MM-DD");
    return given;
  }

  // The account as the caller sees it (404 otherwise), with a CNPJ: its facts' key.
  Json retailer(const nucleo_call* call, const std::string& account_id) const {
    Json account = host_->call(call, "records.get", {{"type", "account"}, {"id", account_id}});
    if (!verticals::valid_cnpj(text(account, "tax_id")))
      throw Error(NUCLEO_INVALID_ARGUMENT, "account " + account_id + " has no CNPJ: sell-in and sell-out files name retailers by it");
    return account;
  }

  Period period_of(const nucleo_call* call, const std::string& start, const std::string& end) const {
    Period p{start, end, "", add_days(start, -1)};
    p.window_days = host_->tenant_settings(call)["settings"].value("window_days", 28);
    p.window_start = add_days(end, 1 - p.window_days);
    return p;
  }

  // The three fact sets' sums over the period, per group of `dimensions` (grouping sets:
  // each list of dimensions a level, [] the retailer's total) — three aggregates, each
  // reading the retailer's rows of its set once.
  std::map<std::string, FlowsByGroup> flows(const nucleo_call* call, const std::string& cnpj, const Period& p,
                                            const Json& grouping_sets, std::int64_t limit = 100'000) const {
    std::map<std::string, FlowsByGroup> out;  // level ("location", "gtin", "location+gtin", "") → groups
    auto each_row = [&](const Json& answer, const std::function<void(Flows&, const std::map<std::string, Json>&)>& add) {
      const Json& columns = answer["columns"];
      for (const auto& row : answer["rows"]) {
        std::map<std::string, Json> named;
        for (std::size_t i = 0; i < columns.size(); ++i) named[columns[i]] = row[i];
        std::string level, key;
        for (const char* d : {"location", "gtin"})
          if (named.count(d) && named[d].is_string()) {
            level += (level.empty() ? "" : "+") + std::string(d);
            key += (key.empty() ? "" : "|") + named[d].get<std::string>();
          }
        add(out[level][key], named);
      }
    };
    auto number = [](const Json& v) { return v.is_number_integer() ? v.get<std::int64_t>() : std::int64_t{0}; };
    std::string first_day = std::min(p.start, p.window_start);
    Json sold = host_->call(
        call, "facts.aggregate",
        {{"set", "sell_out"},
         {"where", {{"retailer", {{"eq", cnpj}}}, {"day", {{"gte", first_day}, {"lte", p.end}}}}},
         {"grouping_sets", grouping_sets},
         {"values", {{"sold", {{"sum", "units"}, {"where", {{"day", {{"gte", p.start}}}}}}},
                     {"revenue", {{"sum", "revenue_cents"}, {"where", {{"day", {{"gte", p.start}}}}}}},
                     {"window_sold", {{"sum", "units"}, {"where", {{"day", {{"gte", p.window_start}}}}}}}}},
         {"limit", limit}});
    each_row(sold, [&](Flows& f, const std::map<std::string, Json>& v) {
      f.sold = number(v.at("sold")), f.revenue_cents = number(v.at("revenue")), f.window_sold = number(v.at("window_sold"));
    });
    Json received = host_->call(call, "facts.aggregate",
                                {{"set", "sell_in"},
                                 {"where", {{"retailer", {{"eq", cnpj}}}, {"day", {{"gte", p.start}, {"lte", p.end}}}}},
                                 {"grouping_sets", grouping_sets},
                                 {"values", {{"received", {{"sum", "units"}}}}},
                                 {"limit", limit}});
    each_row(received, [&](Flows& f, const std::map<std::string, Json>& v) { f.received = number(v.at("received")); });
    Json stock = host_->call(
        call, "facts.aggregate",
        {{"set", "inventory"},
         {"where", {{"retailer", {{"eq", cnpj}}}, {"day", {{"gte", p.before}, {"lte", p.end}}}}},
         {"grouping_sets", grouping_sets},
         {"values", {{"opening", {{"sum", "on_hand"}, {"where", {{"day", {{"eq", p.before}}}}}}},
                     {"opening_snapshots", {{"count", true}, {"where", {{"day", {{"eq", p.before}}}}}}},
                     {"closing", {{"sum", "on_hand"}, {"where", {{"day", {{"eq", p.end}}}}}}},
                     {"closing_snapshots", {{"count", true}, {"where", {{"day", {{"eq", p.end}}}}}}},
                     {"snapshots", {{"count", true}, {"where", {{"day", {{"gte", p.start}}}}}}},
                     {"empty", {{"count", true}, {"where", {{"day", {{"gte", p.start}}}, {"on_hand", {{"eq", 0}}}}}}}}},
         {"limit", limit}});
    each_row(stock, [&](Flows& f, const std::map<std::string, Json>& v) {
      f.opening = number(v.at("opening")), f.opening_snapshots = number(v.at("opening_snapshots"));
      f.closing = number(v.at("closing")), f.closing_snapshots = number(v.at("closing_snapshots"));
      f.snapshots = number(v.at("snapshots")), f.empty_snapshots = number(v.at("empty"));
    });
    return out;
  }

  Response performance(const Request& r) const {
    Json account = retailer(r.call, r.param("account_id"));
    std::string yesterday = add_days(date_of_micros(host_->now_micros(r.call)), -1);
    std::string end = day_parameter(r, "period_end", yesterday);
    std::string start = day_parameter(r, "period_start", add_days(end, -27));
    if (start > end) throw Error(NUCLEO_INVALID_ARGUMENT, "period_start must be on or before period_end");
    if (verticals::days_between(start, end) > 731) throw Error(NUCLEO_INVALID_ARGUMENT, "a period is at most two years");
    std::set<std::string> by;
    std::string given = r.query("by");
    for (std::size_t at = 0; !given.empty() && at <= given.size();) {
      std::size_t comma = std::min(given.find(',', at), given.size());
      std::string level = given.substr(at, comma - at);
      if (level != "store" && level != "product")
        throw Error(NUCLEO_INVALID_ARGUMENT, "by is store, product or store,product, not '" + level + "'");
      by.insert(level);
      at = comma + 1;
    }
    Json grouping_sets = Json::array({Json::array()});
    if (by.count("store")) grouping_sets.push_back({"location"});
    if (by.count("product")) grouping_sets.push_back({"gtin"});
    Period p = period_of(r.call, start, end);
    std::string cnpj = text(account, "tax_id");
    auto levels = flows(r.call, cnpj, p, grouping_sets);
    Json answer{{"account_id", account["id"]}, {"retailer_cnpj", cnpj}, {"period_start", start}, {"period_end", end},
                {"window_days", p.window_days}, {"totals", figures(levels[""][""], p.window_days)}};
    if (by.count("store")) answer["stores"] = rows_of(r.call, levels["location"], "gln", p.window_days);
    if (by.count("product")) answer["products"] = rows_of(r.call, levels["gtin"], "gtin", p.window_days);
    return Response{200, answer};
  }

  // Each group's figures, with the store's or product's name when the pack knows it.
  Json rows_of(const nucleo_call* call, const FlowsByGroup& groups, const char* key, int window_days) const {
    std::map<std::string, std::string> names;
    if (std::string(key) == "gln")
      each_document(*host_, call, "locations", Json::object(), [&](Json d) { names[text(d["document"], "gln")] = text(d["document"], "name"); });
    else
      each_document(*host_, call, "products", Json::object(), [&](Json d) { names[text(d["document"], "gtin")] = text(d["document"], "description"); });
    Json rows = Json::array();
    for (const auto& [id, f] : groups) {
      Json row = figures(f, window_days);
      row[key] = id;
      if (names.count(id)) row["name"] = names[id];
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // ---- Reorder --------------------------------------------------------------------------

  // Every store's product whose coverage on `end` is below reorder_coverage_days gets a
  // suggestion (units to bring it to reorder_target_days, rounded up), kept as
  // reorder_suggestions records; together they make one task on the retailer — or one
  // deal in reorder_stage_id, valued at the products' list prices. Once per retailer and day.
  Json reorder_check(const nucleo_call* call, const Json& account, const std::string& end) {
    Json settings = host_->tenant_settings(call)["settings"];
    int threshold = settings.value("reorder_coverage_days", 14), target = settings.value("reorder_target_days", 28);
    Period p = period_of(call, add_days(end, -27), end);
    auto levels = flows(call, text(account, "tax_id"), p, Json::array({Json::array({"location", "gtin"})}), 1'000'000);
    struct Item {
      std::string location, gtin;
      std::int64_t units;
      Flows flows;
    };
    std::vector<Item> items;
    for (const auto& [key, f] : levels["location+gtin"])
      if (auto units = reorder_units(f, p.window_days, threshold, target))
        items.push_back({key.substr(0, key.find('|')), key.substr(key.find('|') + 1), *units, f});
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
      return a.flows.closing * b.flows.window_sold < b.flows.closing * a.flows.window_sold;  // lowest coverage first
    });
    std::string account_id = account["id"];
    Json answer{{"account_id", account_id}, {"period_end", end}, {"suggestions", items.size()}, {"units", 0}, {"items", Json::array()}};
    if (items.empty()) return answer;
    std::map<std::string, std::int64_t> prices;
    each_document(*host_, call, "products", Json::object(),
                  [&](Json d) { prices[text(d["document"], "gtin")] = d["document"].value("list_price_cents", std::int64_t{0}); });
    std::int64_t units = 0, value = 0;
    for (const auto& i : items) units += i.units, value += i.units * prices[i.gtin];
    std::string title = "Reposição sugerida: " + std::to_string(items.size()) + " produtos em lojas abaixo de " +
                        std::to_string(threshold) + " dias de cobertura em " + end + " (" + std::to_string(units) + " unidades)";
    std::string stage = settings.value("reorder_stage_id", "");
    Json data{{"account_id", account_id}};
    Json made;
    if (!stage.empty()) {
      Json s = host_->call(call, "records.get", {{"type", "stage"}, {"id", stage}});
      data.update({{"name", title}, {"pipeline_id", s["pipeline_id"]}, {"stage_id", stage}, {"amount", value}});
      made = host_->call(call, "records.create", {{"type", "deal"}, {"data", data}, {"idempotency_key", "retail:reorder:" + account_id + ":" + end}});
      answer["deal_id"] = made["id"];
    } else {
      data.update({{"title", title}, {"kind", "follow_up"}, {"due_at", add_days(end, 2) + "T12:00:00Z"},
                   {"origin_rule", "org.nucleo.retail/reorder"}});
      if (account.value("owner_id", Json()).is_string()) data["assignee_id"] = account["owner_id"];
      made = host_->call(call, "records.create", {{"type", "task"}, {"data", data}, {"idempotency_key", "retail:reorder:" + account_id + ":" + end}});
      answer["task_id"] = made["id"];
    }
    for (std::size_t n = 0; n < items.size(); ++n) {
      const Item& i = items[n];
      Json suggestion{{"account_id", account_id}, {"to", end}, {"location", i.location}, {"gtin", i.gtin}, {"units", i.units},
                      {"coverage_days", rounded_ratio(i.flows.closing * p.window_days, i.flows.window_sold)},
                      {"closing_on_hand", i.flows.closing}, {"avg_daily_sell_out", rounded_ratio(i.flows.window_sold, p.window_days)}};
      suggestion[stage.empty() ? "task_id" : "deal_id"] = made["id"];
      host_->store_put(call, "reorder_suggestions", account_id + "." + end + "." + i.location + "." + i.gtin, suggestion);
      if (n < 50) answer["items"].push_back(suggestion);
    }
    answer["units"] = units;
    return answer;
  }

  // ---- The customer 360 -------------------------------------------------------------------

  Json briefing(const nucleo_call* call, const Json& account) const {
    std::string cnpj = text(account, "tax_id");
    if (!verticals::valid_cnpj(cnpj)) return {{"retailer", false}};
    std::string end = add_days(date_of_micros(host_->now_micros(call)), -1);
    Period p = period_of(call, add_days(end, -27), end);
    auto levels = flows(call, cnpj, p, Json::array({Json::array()}));
    Json shown = figures(levels[""][""], p.window_days);
    long stores = 0;
    each_document(*host_, call, "locations", {{"where", {{"account_id", {{"eq", account["id"]}}}}}}, [&](Json) { ++stores; });
    Json latest = host_->store_query(call, "reorder_suggestions",
                                     {{"where", {{"account_id", {{"eq", account["id"]}}}}}, {"sort", "-to"}, {"limit", 1}});
    return {{"retailer", true},
            {"period_end", end},
            {"locations", stores},
            {"sell_out_units_28d", shown["sell_out_units"]},
            {"sell_in_units_28d", shown["sell_in_units"]},
            {"sell_through_percent", shown["sell_through_percent"]},
            {"coverage_days", shown["coverage_days"]},
            {"last_reorder_suggestion", latest["data"].empty() ? Json() : latest["data"][0]["document"]["to"]}};
  }

  Host* host_ = nullptr;
};

}  // namespace
}  // namespace nucleo::retail

NUCLEO_PLUGIN(nucleo::retail::Retail, "org.nucleo.retail", "1.0.0")
