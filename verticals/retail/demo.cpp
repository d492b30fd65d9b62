#include "demo.hpp"

#include <map>
#include <random>

#include "common/dates.hpp"
#include "common/pack.hpp"

namespace nucleo::retail {

using nucleo::sdk::Json;

std::string with_gs1_check_digit(const std::string& body) {
  int sum = 0;
  for (std::size_t i = 0; i < body.size(); ++i) sum += (body[i] - '0') * ((body.size() - i) % 2 ? 3 : 1);
  return body + std::to_string((10 - sum % 10) % 10);
}

Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed) {
  std::mt19937 random(seed);
  auto between = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::map<std::string, int> written;
  const std::vector<std::pair<std::string, std::int64_t>> catalogue{
      {"Café torrado e moído 500 g", 1890}, {"Achocolatado em pó 400 g", 990}, {"Biscoito recheado 140 g", 349},
      {"Suco de uva integral 1 l", 1290},   {"Molho de tomate 340 g", 429},   {"Azeite extravirgem 500 ml", 3990},
      {"Sabão em pó 1,6 kg", 2190},         {"Papel higiênico 12 rolos", 2290}};
  std::vector<std::string> gtins;
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    std::string gtin = with_gs1_check_digit("789100000" + std::to_string(100 + i));
    gtins.push_back(gtin);
    host.store_put(call, "products", "demo-" + gtin,
                   {{"gtin", gtin}, {"description", catalogue[i].first}, {"brand", "Nucleo Alimentos"},
                    {"units_per_case", 12}, {"list_price_cents", catalogue[i].second}});
    ++written["products"];
  }
  std::string today = verticals::date_of_micros(host.now_micros(call));
  // Weeks end on the last Sunday (1970-01-04 was one); twelve of them.
  long last_sunday = verticals::day_number(today) - 1;
  last_sunday -= ((last_sunday - 3) % 7 + 7) % 7;
  std::vector<Json> facts_in, facts_out, facts_stock;
  auto flush = [&](const char* set, std::vector<Json>& facts) {
    for (std::size_t at = 0; at < facts.size(); at += 500) {
      Json batch(std::vector<Json>(facts.begin() + static_cast<long>(at), facts.begin() + static_cast<long>(std::min(facts.size(), at + 500))));
      host.call(call, "facts.write", {{"set", set}, {"facts", batch}});
    }
    written[std::string("facts ") + set] += static_cast<int>(facts.size());
    facts.clear();
  };
  int retailers = 0;
  for (const auto& account : verticals::records_where(host, call, "account", Json::array(), 40)) {
    std::string cnpj = verticals::text(account, "tax_id");
    if (!verticals::valid_cnpj(cnpj) || retailers == 3) continue;
    std::string id = account["id"];
    ++retailers;
    host.call(call, "records.update", {{"type", "account"}, {"id", id}, {"data", {{"attributes", {{"retail.role", "retailer"}}}}}});
    std::vector<std::string> stores;
    std::string dc = with_gs1_check_digit("78910000" + std::to_string(1000 + retailers * 10));
    host.store_put(call, "locations", "demo-" + dc, {{"account_id", id}, {"gln", dc}, {"kind", "distribution_centre"}, {"name", "CD " + std::to_string(retailers)}});
    for (int s = 1; s <= 6; ++s) {
      std::string gln = with_gs1_check_digit("78910000" + std::to_string(1000 + retailers * 10 + s));
      stores.push_back(gln);
      host.store_put(call, "locations", "demo-" + gln, {{"account_id", id}, {"gln", gln}, {"kind", "store"}, {"name", "Loja " + std::to_string(s)}});
    }
    written["locations"] += 7;
    for (const auto& store : stores)
      for (const auto& gtin : gtins) {
        int on_hand = between(20, 120), rate = between(2, 30);
        for (int week = 11; week >= 0; --week) {
          std::string day = verticals::date_of_day(last_sunday - 7L * week);
          int sold = std::min(on_hand, std::max(0, rate + between(-3, 3)));
          int delivered = on_hand - sold < rate * 2 ? rate * 3 : 0;
          on_hand += delivered - sold;
          facts_out.push_back({{"retailer", cnpj}, {"location", store}, {"gtin", gtin}, {"day", day}, {"units", sold},
                               {"revenue_cents", sold * 1000}});
          if (delivered)
            facts_in.push_back({{"retailer", cnpj}, {"location", store}, {"gtin", gtin}, {"day", day}, {"units", delivered},
                                {"value_cents", delivered * 700}});
          facts_stock.push_back({{"retailer", cnpj}, {"location", store}, {"gtin", gtin}, {"day", day}, {"on_hand", on_hand}});
        }
      }
    flush("sell_out", facts_out);
    flush("sell_in", facts_in);
    flush("inventory", facts_stock);
  }
  Json out = Json::object();
  for (const auto& [k, v] : written) out[k] = v;
  return out;
}

}  // namespace nucleo::retail
