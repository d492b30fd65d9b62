#include "demo.hpp"

#include <cstdio>
#include <map>
#include <random>

#include "common/dates.hpp"
#include "common/pack.hpp"
#include "seasons.hpp"

namespace nucleo::agro {

using nucleo::sdk::Json;

namespace {

struct Municipality {
  const char* geocode;
  const char* uf;
  const char* name;
};

const Municipality municipalities[] = {{"5107925", "MT", "Sorriso"}, {"5105259", "MT", "Lucas do Rio Verde"},
                                       {"5218805", "GO", "Rio Verde"}, {"4104808", "PR", "Cascavel"}};

// A ZARC row in the shape the importer writes: soybean recommended from September to
// mid-January, second-crop corn from January to the end of February (synthetic risks).
Json zarc_row(const Municipality& m, int first_year, bool second_crop) {
  Json risks = Json::array();
  for (int d = 1; d <= 36; ++d) {
    int risk = 0;
    if (!second_crop && (d >= 25 || d <= 2)) risk = d >= 27 && d <= 33 ? 20 : 30;
    if (second_crop && d >= 1 && d <= 6) risk = d <= 4 ? 20 : 40;
    risks.push_back(risk);
  }
  Span span{std::to_string(first_year) + "-07-01", std::to_string(first_year + 1) + "-06-30"};
  char safra[32];
  std::snprintf(safra, sizeof safra, "%04d/%02d", first_year, (first_year + 1) % 100);
  return {{"crop", second_crop ? "milho" : "soja"}, {"crop_name", second_crop ? "Milho 2ª safra" : "Soja"},
          {"season", second_crop ? "second" : "first"}, {"safra", safra}, {"safra_start", first_year},
          {"safra_end", first_year + 1}, {"span_start", span.start}, {"span_end", span.end}, {"geocode", m.geocode},
          {"uf", m.uf}, {"municipality", m.name}, {"soil", "2"}, {"cycle", "2"}, {"portaria", "demo"}, {"risks", risks},
          {"seen_in", "demo"}};
}

// 26 characters, as the kernel's ids have: "demo" and the number.
std::string demo_id(std::size_t n) {
  std::string digits = std::to_string(n);
  return "demo" + std::string(22 - digits.size(), '0') + digits;
}

}  // namespace

Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed, const PlanCrop& plan) {
  std::mt19937 random(seed);
  auto between = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::map<std::string, int> written;
  std::string today = verticals::date_of_micros(host.now_micros(call));
  int this_safra = std::stoi(safra_of(today).substr(0, 4));

  for (int year : {this_safra - 1, this_safra})
    for (const auto& m : municipalities)
      for (bool second : {false, true}) {
        Json row = zarc_row(m, year, second);
        host.store_put(call, "zarc", std::string(second ? "milho.second." : "soja.first.") + std::to_string(year) + "." + m.geocode,
                       row);
        ++written["zarc"];
      }
  char safra[32];
  std::snprintf(safra, sizeof safra, "%04d/%02d", this_safra, (this_safra + 1) % 100);
  host.store_put(call, "sowing_calendars", "demo-soja-mt",
                 {{"crop", "soja"}, {"uf", "MT"}, {"safra", safra}, {"start", std::to_string(this_safra) + "-09-07"},
                  {"end", std::to_string(this_safra + 1) + "-01-07"}, {"act", "demo: calendário de semeadura de soja de MT"}});
  ++written["sowing_calendars"];

  std::vector<Json> accounts = verticals::records_where(host, call, "account", Json::array(), 40);
  std::string cooperative;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    std::string id = accounts[i]["id"];
    bool is_cooperative = i % 6 == 0;
    host.call(call, "records.update",
              {{"type", "account"}, {"id", id}, {"data", {{"attributes", {{"agro.producer_kind", is_cooperative ? "cooperative" : "producer"}}}}}});
    if (is_cooperative) {
      cooperative = id;
      continue;
    }
    host.store_put(call, "memberships", "demo-" + id, {{"producer_id", id}, {"cooperative_id", cooperative},
                                                       {"member_number", std::to_string(1000 + i)}});
    ++written["memberships"];
    const Municipality& m = municipalities[i % 4];
    char car[64];
    std::snprintf(car, sizeof car, "%s-%s-%08X%08X%08X%08X", m.uf, m.geocode, static_cast<unsigned>(random()),
                  static_cast<unsigned>(random()), static_cast<unsigned>(random()), static_cast<unsigned>(random()));
    std::string farm = "farm_" + demo_id(i);
    int fields = between(1, 3);
    double farm_area = 0;
    std::vector<std::pair<std::string, double>> field_ids;
    for (int f = 0; f < fields; ++f) {
      double area = between(4000, 60000) / 100.0;
      farm_area += area;
      std::string field = "tlh_" + demo_id(i * 10 + static_cast<std::size_t>(f));
      host.store_put(call, "fields", field, {{"farm_id", farm}, {"account_id", id}, {"name", "Talhão " + std::to_string(f + 1)},
                                             {"area_ha", area}, {"soil", "2"}});
      field_ids.emplace_back(field, area);
      ++written["fields"];
    }
    host.store_put(call, "farms", farm, {{"account_id", id}, {"name", "Fazenda " + std::string(m.name) + " " + std::to_string(i)},
                                         {"car", car}, {"municipality_ibge", m.geocode}, {"area_ha", farm_area}});
    ++written["farms"];
    for (const auto& [field, area] : field_ids)
      for (int year : {this_safra - 1, this_safra}) {
        std::string soy = verticals::add_days(std::to_string(year) + "-09-15", between(0, 40));
        int soy_cycle = between(105, 125);
        auto status = [&](const std::string& planting) {
          return year < this_safra ? "harvested" : planting < today ? "planted" : "planned";
        };
        plan(field, {{"crop", "soja"}, {"planting_date", soy}, {"cycle_days", soy_cycle}, {"cycle", "2"}, {"status", status(soy)}});
        std::string corn = verticals::add_days(expected_harvest(soy, soy_cycle), between(2, 12));
        plan(field, {{"crop", "milho 2ª safra"}, {"planting_date", corn}, {"cycle_days", between(140, 160)}, {"cycle", "2"},
                     {"area_ha", area}, {"status", status(corn)}});
        written["crop_plans"] += 2;
      }
  }
  Json out = Json::object();
  for (const auto& [k, v] : written) out[k] = v;
  return out;
}

}  // namespace nucleo::agro
