#include "demo.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "committee.hpp"
#include "common/dates.hpp"
#include "common/pack.hpp"

namespace nucleo::education {

using nucleo::sdk::Json;

Json seed_demo(const nucleo::sdk::Host& host, const nucleo_call* call, std::uint32_t seed) {
  std::mt19937 random(seed);
  auto between = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::map<std::string, int> written;
  std::string today = verticals::date_of_micros(host.now_micros(call));
  int year = std::stoi(today.substr(0, 4));
  const std::vector<std::pair<std::string, std::string>> levels{
      {"graduacao", "Administração"}, {"graduacao", "Engenharia de Produção"}, {"pos_graduacao", "MBA em Gestão"},
      {"tecnico", "Técnico em Enfermagem"}, {"medio", "Ensino Médio"}, {"fundamental", "Ensino Fundamental II"}};

  std::vector<Json> accounts = verticals::records_where(host, call, "account", Json::array(), 40);
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    std::string id = accounts[i]["id"];
    bool university = i % 3 == 0;
    Json attributes{{"edu.kind", university ? "university" : "school"}, {"edu.administration", i % 4 == 1 ? "municipal" : "privada"}};
    if (university) attributes["edu.emec_code"] = std::to_string(1000 + between(0, 8000));
    else attributes["edu.inep_code"] = std::to_string(35000000 + between(0, 999999));
    host.call(call, "records.update", {{"type", "account"}, {"id", id}, {"data", {{"attributes", attributes}}}});
    for (int c = 0; c < (university ? between(2, 3) : 1); ++c) {
      host.store_put(call, "campuses", "demo-" + id + "-" + std::to_string(c),
                     {{"account_id", id}, {"name", c == 0 ? "Campus Central" : "Campus " + std::to_string(c + 1)},
                      {"students", between(800, 9000)}});
      ++written["campuses"];
    }
    for (int p = 0; p < between(2, 4); ++p) {
      const auto& [level, name] = levels[(university ? 0 : 3) + static_cast<std::size_t>(p % 3)];
      host.store_put(call, "programs", "demo-" + id + "-" + std::to_string(p),
                     {{"account_id", id}, {"name", name}, {"level", level}, {"modality", p % 2 ? "ead" : "presencial"},
                      {"students", between(60, 1200)}});
      ++written["programs"];
    }
    // The year's decisions: the budget for next year, enrolment, the first term.
    struct Window {
      const char* kind;
      const char* name;
      std::string start, end;
    };
    std::string next = std::to_string(year + 1);
    for (const Window& w : {Window{"budget_cycle", "Orçamento do próximo ano", std::to_string(year) + "-10-01", std::to_string(year) + "-11-30"},
                            Window{"enrolment", "Matrículas", next + "-01-05", next + "-02-15"},
                            Window{"term_start", "Início do semestre letivo", next + "-02-16", next + "-02-27"},
                            Window{"board_meeting", "Conselho universitário", next + "-03-" + std::to_string(10 + between(0, 9)),
                                   next + "-03-25"}}) {
      if (!university && std::string(w.kind) == "board_meeting") continue;
      host.store_put(call, "calendar_windows", "demo-" + id + "-" + w.kind,
                     {{"account_id", id}, {"kind", w.kind}, {"name", w.name}, {"start", w.start}, {"end", w.end}});
      ++written["calendar_windows"];
    }
  }

  // The committee of each open deal: the roles its gates asked for, or else its account's
  // contacts taking the roles in turn; some members have a sentiment noted.
  static const char* sentiments[] = {"champion", "supportive", "neutral", "skeptical", "opposed"};
  for (const auto& deal : verticals::records_where(host, call, "deal",
                                                   Json::array({{{"field", "status"}, {"op", "eq"}, {"value", "open"}}}), 60)) {
    Json contacts = deal.value("contacts", Json::array());
    bool has_roles = std::any_of(contacts.begin(), contacts.end(), [](const Json& c) { return c.value("role", Json()).is_string(); });
    if (!has_roles) {  // a deal the simulation left before its committee gate
      contacts = Json::array();
      for (const auto& c : verticals::records_where(
               host, call, "contact", Json::array({{{"field", "account_id"}, {"op", "eq"}, {"value", deal["account_id"]}}}), 5))
        contacts.push_back({{"contact_id", c["id"]}, {"role", committee_roles()[contacts.size() % committee_roles().size()]}});
      if (contacts.empty()) continue;
      host.call(call, "records.update", {{"type", "deal"}, {"id", deal["id"]}, {"data", {{"contacts", contacts}}}});
    }
    for (const auto& c : contacts) {
      if (between(0, 2) == 0) continue;
      std::string deal_id = deal["id"], contact_id = c["contact_id"];
      host.store_put(call, "committee_notes", deal_id + "." + contact_id,
                     {{"deal_id", deal_id}, {"contact_id", contact_id}, {"sentiment", sentiments[between(0, 4)]},
                      {"noted_by", "demo"}, {"noted_at", today + "T12:00:00Z"}});
      ++written["committee_notes"];
    }
  }
  Json out = Json::object();
  for (const auto& [k, v] : written) out[k] = v;
  return out;
}

}  // namespace nucleo::education
