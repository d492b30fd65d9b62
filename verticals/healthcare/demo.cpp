#include "demo.hpp"

#include <random>

#include "cnes.hpp"
#include "institutions.hpp"

namespace nucleo::healthcare {

using nucleo::sdk::Json;

Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed) {
  std::mt19937 random(seed);
  auto between = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::string today = date_of_micros(host.now_micros(call));
  std::map<std::string, int> written;

  std::vector<Json> accounts;
  Json request{{"type", "account"}, {"query", {{"limit", 100}}}};
  for (;;) {
    Json page = host.call(call, "records.search", request);
    for (auto& a : page["data"]) accounts.push_back(std::move(a));
    if (page["next"].is_null()) break;
    request["after"] = page["next"];
  }
  const std::vector<std::string> cities{"355030", "130260", "510340", "261160"};
  const std::vector<std::string> roles{"clinical_champion", "purchasing_committee", "director", "pharmacist", "procurement"};
  int cnes = 2100000 + between(0, 5000);
  std::string group_cnpj;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const Json& a = accounts[i];
    std::string id = a["id"], tax = a.value("tax_id", "");
    if (tax.empty()) continue;
    bool hospital = a["legal_name"].get<std::string>().find("Hospital") != std::string::npos ||
                    a["legal_name"].get<std::string>().find("Santa Casa") != std::string::npos;
    std::string type = hospital ? "05" : "36", city = cities[i % cities.size()];
    // Every fourth institution heads a group; the next three are its hospitals.
    if (i % 4 == 0) group_cnpj = tax;
    Json attributes{{"health.cnes", std::to_string(cnes)}, {"health.establishment_type", type},
                    {"health.management", i % 3 ? "estadual" : "municipal"}, {"health.municipality_ibge", city},
                    {"health.registration_updated_on", add_days(today, -between(20, 400))}};
    if (i % 4 != 0) attributes["health.mantenedora_cnpj"] = group_cnpj;
    host.call(call, "records.update", {{"type", "account"}, {"id", id}, {"data", {{"attributes", attributes}}}});
    ++written["accounts"];
    for (int unit = 0; unit < 1 + between(0, 2); ++unit, ++cnes) {
      std::string code = std::to_string(cnes);
      Json e{{"cnes", code}, {"name", unit == 0 ? a.value("trade_name", a["legal_name"].get<std::string>())
                                                 : "UNIDADE " + std::to_string(unit) + " - " + a["legal_name"].get<std::string>()},
             {"legal_name", a["legal_name"]}, {"account_tax_id", tax}, {"type_code", unit == 0 ? type : "02"},
             {"type", establishment_type_label(unit == 0 ? type : "02")}, {"municipality_ibge", city},
             {"registration_updated_on", attributes["health.registration_updated_on"]}, {"seen_in", "demo"}};
      if (unit == 0) e["cnpj"] = tax;
      host.store_put(call, "establishments", code, e);
      ++written["establishments"];
    }
    if (hospital) {
      int ends_in = between(-20, 400);
      host.store_put(call, "contracts", "ctr-demo-" + std::to_string(i),
                     {{"account_id", id}, {"number", std::to_string(between(1, 90)) + "/2025"},
                      {"object", "Fornecimento de materiais médico-hospitalares"}, {"value_cents", between(5, 90) * 10'000'000LL},
                      {"start", add_days(today, ends_in - 730)}, {"end", add_days(today, ends_in)},
                      {"status", ends_in < 0 ? "ended" : "active"}});
      ++written["contracts"];
      host.store_put(call, "tenders", "lic-demo-" + std::to_string(i),
                     {{"account_id", id}, {"modality", i % 2 ? "pregao_eletronico" : "dispensa"},
                      {"number", std::to_string(90000 + i) + "/2025"}, {"object", "Registro de preços de cateteres"},
                      {"opened_on", add_days(today, -between(30, 300))}, {"outcome", i % 3 ? "won" : "lost"}});
      ++written["tenders"];
    }
    for (int order = 0; order < between(2, 8); ++order) {
      host.store_put(call, "orders", "ord-demo-" + std::to_string(i) + "-" + std::to_string(order),
                     {{"account_id", id}, {"number", "PO-" + std::to_string(1000 + i * 10 + order)},
                      {"ordered_on", add_days(today, -between(5, 540))}, {"value_cents", between(10, 500) * 10'000LL}});
      ++written["orders"];
    }
    Json contacts = host.call(call, "records.search",
                              {{"type", "contact"},
                               {"query", {{"filter_groups", Json::array({{{"filters", Json::array({{{"field", "account_id"},
                                                                                                    {"op", "eq"}, {"value", id}}})}}})},
                                          {"limit", 3}}}});
    int n = 0;
    for (const auto& c : contacts["data"]) {
      Json role{{"account_id", id}, {"contact_id", c["id"]}, {"role", roles[(i + n) % roles.size()]},
                {"from", add_days(today, -between(200, 1500))}};
      if (n == 2) role["to"] = add_days(today, -between(10, 150));  // someone who moved on
      host.store_put(call, "roles", "rol-demo-" + std::to_string(i) + "-" + std::to_string(n++), role);
      ++written["roles"];
    }
    if (hospital && i % 3 == 0) {
      host.store_put(call, "clinical_events", "cev-demo-" + std::to_string(i),
                     {{"account_id", id}, {"occurred_on", add_days(today, -between(10, 200))}, {"kind", "product_complaint"},
                      {"product", "Equipo de infusão"}, {"description", "lote com vazamento relatado pela farmácia"}});
      ++written["clinical_events"];
    }
  }
  return Json(written);
}

}  // namespace nucleo::healthcare
