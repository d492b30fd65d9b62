#include "seasons.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <regex>
#include <stdexcept>

#include "common/dates.hpp"

namespace nucleo::agro {
namespace {

const std::vector<std::string>& zarc_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c{"NOME_CULTURA", "SAFRAINI", "SAFRAFIN", "GEOCODIGO", "UF", "MUNICIPIO",
                               "COD_SOLO", "COD_CICLO", "PORTARIA"};
    for (int d = 1; d <= 36; ++d) c.push_back("DEC" + std::to_string(d));
    return c;
  }();
  return columns;
}

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// ZARC's SafraIni/SafraFin: one year for a crop sown and harvested in it (wheat), two
// consecutive years for one sown across the turn of the year (soybean) — the safra the
// rest of the pack speaks of, July to June.
Span years_span(int first, int last) {
  char a[32], b[32];
  if (first == last) {
    std::snprintf(a, sizeof a, "%04d-01-01", first), std::snprintf(b, sizeof b, "%04d-12-31", last);
  } else {
    std::snprintf(a, sizeof a, "%04d-07-01", first), std::snprintf(b, sizeof b, "%04d-06-30", last);
  }
  return {a, b};
}

std::string safra_label(int first, int last) {
  if (first == last) return std::to_string(first);
  char out[32];
  std::snprintf(out, sizeof out, "%04d/%02d", first, last % 100);
  return out;
}

}  // namespace

std::string safra_of(const std::string& date) {
  verticals::day_number(date);  // throws on a malformed date
  int year = std::stoi(date.substr(0, 4)), month = std::stoi(date.substr(5, 2));
  int first = month >= 7 ? year : year - 1;
  return safra_label(first, first + 1);
}

Span safra_span(const std::string& safra) {
  static const std::regex label(R"(^(\d{4})/(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(safra, m, label) || (std::stoi(m[1]) + 1) % 100 != std::stoi(m[2]))
    throw std::invalid_argument("a safra is two consecutive years, as in 2024/25, not '" + safra + "'");
  int first = std::stoi(m[1]);
  return years_span(first, first + 1);
}

int decendio_of(const std::string& date) {
  verticals::day_number(date);
  int month = std::stoi(date.substr(5, 2)), day = std::stoi(date.substr(8, 2));
  return (month - 1) * 3 + (day <= 10 ? 1 : day <= 20 ? 2 : 3);
}

Span decendio_span(int year, int d) {
  if (d < 1 || d > 36) throw std::invalid_argument("a decêndio is 1 to 36, not " + std::to_string(d));
  int month = (d - 1) / 3 + 1, part = (d - 1) % 3;
  int first = part * 10 + 1, last = part == 2 ? verticals::days_in_month(year, month) : first + 9;
  char a[32], b[32];
  std::snprintf(a, sizeof a, "%04d-%02d-%02d", year, month, first);
  std::snprintf(b, sizeof b, "%04d-%02d-%02d", year, month, last);
  return {a, b};
}

ZarcHeader zarc_header(std::string_view line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  ZarcHeader header;
  header.separator = line.find(';') != std::string_view::npos ? ';' : ',';
  try {
    header.columns = verticals::split_fields(line, header.separator);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("not a ZARC risk table: its header has ") + e.what());
  }
  for (auto& c : header.columns)
    for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string missing = verticals::Columns(header.columns).missing(zarc_columns());
  if (!missing.empty())
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "not a ZARC risk table (Nome_cultura, SafraIni, SafraFin, geocodigo, UF, "
                                              "municipio, Cod_Solo, Cod_Ciclo, Portaria, dec1…dec36): the header lacks " +
                                                  missing);
  return header;
}

CropKey crop_key(std::string_view name) {
  std::string folded = verticals::folded_name(name);
  static const std::regex second(R"(^(.*?)\s*(2A? SAFRA|SEGUNDA SAFRA|SAFRINHA)$)");
  std::smatch m;
  std::string season = "first";
  if (std::regex_match(folded, m, second) && !m[1].str().empty()) {
    folded = m[1];
    season = "second";
  }
  for (char& c : folded) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {folded, season};
}

std::variant<ZarcEntry, std::string> zarc_entry(const verticals::Columns& columns, char separator, std::string_view line) {
  std::vector<std::string> row;
  try {
    row = verticals::split_fields(line, separator);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  if (row.size() != columns.size())
    return "has " + std::to_string(row.size()) + " fields; the header has " + std::to_string(columns.size());
  auto get = [&](const std::string& name) { return columns.get(row, name); };
  std::string name = get("NOME_CULTURA");
  CropKey crop = crop_key(name);
  if (crop.key.empty()) return std::string("Nome_cultura is empty");
  std::string first = get("SAFRAINI"), last = get("SAFRAFIN");
  if (!all_digits(first) || first.size() != 4 || !all_digits(last) || last.size() != 4)
    return "SafraIni '" + first + "' and SafraFin '" + last + "' must be years";
  int from = std::stoi(first), to = std::stoi(last);
  if (to != from && to != from + 1) return "SafraFin " + last + " must be SafraIni or the year after it";
  std::string geocode = get("GEOCODIGO");
  if (!all_digits(geocode) || geocode.size() != 7) return "geocodigo '" + geocode + "' is not an IBGE municipality code (7 digits)";
  std::string uf = get("UF");
  if (uf_of_municipality(geocode) != uf) return "UF '" + uf + "' is not the state of municipality " + geocode;
  Json risks = Json::array();
  for (int d = 1; d <= 36; ++d) {
    std::string v = get("DEC" + std::to_string(d));
    if (v.empty()) v = "0";
    if (v != "0" && v != "20" && v != "30" && v != "40")
      return "dec" + std::to_string(d) + " is '" + v + "': a risk is 20, 30 or 40 (%), or 0 for not recommended";
    risks.push_back(std::stoi(v));
  }
  Span span = years_span(from, to);
  Json document{{"crop", crop.key}, {"crop_name", name}, {"season", crop.season}, {"safra", safra_label(from, to)},
                {"safra_start", from}, {"safra_end", to}, {"span_start", span.start}, {"span_end", span.end},
                {"geocode", geocode}, {"uf", uf}, {"municipality", get("MUNICIPIO")}, {"soil", get("COD_SOLO")},
                {"cycle", get("COD_CICLO")}, {"portaria", get("PORTARIA")}, {"risks", risks}};
  std::string id = crop.key + "." + crop.season + "." + first + "-" + last + "." + geocode + ".s" + get("COD_SOLO") + ".c" +
                   get("COD_CICLO");
  static const std::regex allowed("[^A-Za-z0-9._:-]");
  return ZarcEntry{std::regex_replace(id, allowed, "_"), document};
}

std::vector<Window> planting_windows(const std::vector<Json>& zarc_rows, int max_risk) {
  if (zarc_rows.empty()) return {};
  // The decêndios in sowing order: July to December of SafraIni, then January to June of
  // SafraFin — or January to December when the table covers one year.
  int from = zarc_rows[0].value("safra_start", 0), to = zarc_rows[0].value("safra_end", 0);
  std::vector<std::pair<int, int>> order;  // (year, decêndio)
  if (from == to) {
    for (int d = 1; d <= 36; ++d) order.emplace_back(from, d);
  } else {
    for (int d = 19; d <= 36; ++d) order.emplace_back(from, d);
    for (int d = 1; d <= 18; ++d) order.emplace_back(to, d);
  }
  std::vector<Window> windows;
  bool open = false;
  for (const auto& [year, d] : order) {
    int best = INT_MAX;
    for (const auto& row : zarc_rows) {
      int risk = row["risks"].at(static_cast<std::size_t>(d - 1)).get<int>();
      if (risk > 0 && risk <= max_risk) best = std::min(best, risk);
    }
    if (best == INT_MAX) {
      open = false;
      continue;
    }
    Span days = decendio_span(year, d);
    if (!open) windows.push_back({days.start, days.end, best, best});
    Window& w = windows.back();
    w.end = days.end;
    w.lowest_risk = std::min(w.lowest_risk, best);
    w.highest_risk = std::max(w.highest_risk, best);
    open = true;
  }
  return windows;
}

std::vector<Window> within(const std::vector<Window>& windows, const Span& calendar) {
  std::vector<Window> out;
  for (Window w : windows) {
    w.start = std::max(w.start, calendar.start);
    w.end = std::min(w.end, calendar.end);
    if (w.start <= w.end) out.push_back(w);
  }
  return out;
}

Json to_json(const std::vector<Window>& windows) {
  Json out = Json::array();
  for (const auto& w : windows)
    out.push_back({{"start", w.start}, {"end", w.end}, {"lowest_risk", w.lowest_risk}, {"highest_risk", w.highest_risk}});
  return out;
}

std::string expected_harvest(const std::string& planting_date, int cycle_days) {
  return verticals::add_days(planting_date, cycle_days);
}

std::string uf_of_municipality(const std::string& ibge_code) {
  static const std::map<std::string, std::string> states{
      {"11", "RO"}, {"12", "AC"}, {"13", "AM"}, {"14", "RR"}, {"15", "PA"}, {"16", "AP"}, {"17", "TO"},
      {"21", "MA"}, {"22", "PI"}, {"23", "CE"}, {"24", "RN"}, {"25", "PB"}, {"26", "PE"}, {"27", "AL"},
      {"28", "SE"}, {"29", "BA"}, {"31", "MG"}, {"32", "ES"}, {"33", "RJ"}, {"35", "SP"}, {"41", "PR"},
      {"42", "SC"}, {"43", "RS"}, {"50", "MS"}, {"51", "MT"}, {"52", "GO"}, {"53", "DF"}};
  auto it = ibge_code.size() == 7 ? states.find(ibge_code.substr(0, 2)) : states.end();
  return it == states.end() ? "" : it->second;
}

std::string car_problem(const std::string& car, const std::string& municipality_ibge) {
  std::string compact;
  for (char c : car)
    if (c != '.') compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::regex shape(R"(^([A-Z]{2})-(\d{7})-[0-9A-F]{32}$)");
  std::smatch m;
  if (!std::regex_match(compact, m, shape)) return "CAR '" + car + "' is not a SICAR code (UF-IBGE municipality-32 hex digits)";
  std::string uf = uf_of_municipality(m[2]);
  if (uf.empty()) return "CAR '" + car + "' names municipality " + m[2].str() + ", of no state";
  if (uf != m[1]) return "CAR '" + car + "' says " + m[1].str() + " but municipality " + m[2].str() + " is in " + uf;
  if (!municipality_ibge.empty() && m[2] != municipality_ibge)
    return "CAR '" + car + "' is registered in municipality " + m[2].str() + ", not the farm's " + municipality_ibge;
  return "";
}

Json seasons_of(const std::vector<Json>& plans, const std::vector<Json>& won_deals) {
  struct Season {
    long area = 0, second_area = 0;  // hundredths of a hectare
    std::map<std::string, std::pair<long, int>> crops;
    long deals = 0;
    std::int64_t amount = 0, sacas = 0;
  };
  std::map<std::string, Season, std::greater<>> seasons;
  auto hundredths = [](const Json& area) { return area.is_number() ? std::lround(area.get<double>() * 100) : 0L; };
  for (const auto& p : plans) {
    Season& s = seasons[p.value("safra", "")];
    long area = hundredths(p.value("area_ha", Json()));
    s.area += area;
    if (p.value("season", "") == "second") s.second_area += area;
    auto& crop = s.crops[p.value("crop", "")];
    crop.first += area;
    ++crop.second;
  }
  for (const auto& d : won_deals) {
    Season& s = seasons[d.value("safra", "")];
    ++s.deals;
    s.amount += d.value("amount", std::int64_t{0});
    s.sacas += d.value("barter_sacas", std::int64_t{0});
  }
  Json out = Json::array();
  for (const auto& [safra, s] : seasons) {
    Json crops = Json::object();
    for (const auto& [name, c] : s.crops) crops[name] = {{"area_ha", c.first / 100.0}, {"plans", c.second}};
    out.push_back({{"safra", safra}, {"area_ha", s.area / 100.0}, {"second_crop_area_ha", s.second_area / 100.0},
                   {"crops", crops}, {"purchases", {{"deals", s.deals}, {"amount", s.amount}, {"barter_sacas", s.sacas}}}});
  }
  return out;
}

}  // namespace nucleo::agro
