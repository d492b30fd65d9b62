#include "pep.hpp"

#include "common/pack.hpp"

#include <cstdint>
#include <cstdio>
#include <regex>

namespace nucleo::finance {
namespace {

const std::vector<std::string>& required_columns() {
  static const std::vector<std::string> columns{
      "CPF", "NOME PEP", "SIGLA FUNCAO", "DESCRICAO FUNCAO", "NIVEL FUNCAO", "NOME ORGAO",
      "DATA INICIO EXERCICIO", "DATA FIM EXERCICIO", "DATA FIM CARENCIA"};
  return columns;
}

// A stable id for the same exercise of a function across monthly lists.
std::string entry_id(const std::string& cpf_visible, const std::string& folded, const std::string& acronym,
                     const std::string& agency, const std::string& start) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a 64
  for (char c : folded + "|" + acronym + "|" + agency + "|" + start) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return "pep-" + cpf_visible + "-" + hex;
}

}  // namespace

std::vector<std::string> pep_header(std::string_view line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  std::vector<std::string> names;
  try {
    names = verticals::split_fields(line);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("not the CGU's PEP list: its header has ") + e.what());
  }
  for (auto& n : names) n = verticals::folded_name(n);
  std::string missing = verticals::Columns(names).missing(required_columns());
  if (!missing.empty())
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, "not the CGU's PEP list (AAAAMM_PEP.csv, ';'-separated): the header lacks " + missing);
  return names;
}

std::variant<Json, std::string> pep_entry(const verticals::Columns& columns, std::string_view line) {
  auto read = verticals::row_of(columns, line);
  if (auto* problem = std::get_if<std::string>(&read)) return *problem;
  const auto& row = std::get<std::vector<std::string>>(read);
  auto get = [&](const char* name) { return columns.get(row, name); };
  static const std::regex masked(R"(^\*\*\*\.(\d{3})\.(\d{3})-\*\*$)");
  std::smatch m;
  std::string cpf = get("CPF");
  if (!std::regex_match(cpf, m, masked)) return "CPF '" + cpf + "' is not masked as the list masks it (***.NNN.NNN-**)";
  std::string name = get("NOME PEP");
  std::string folded = verticals::folded_name(name);
  if (folded.empty()) return std::string("Nome_PEP is empty");
  Json entry{{"cpf_visible", m[1].str() + m[2].str()}, {"name", name}, {"name_folded", folded},
             {"role_acronym", get("SIGLA FUNCAO")}, {"role", get("DESCRICAO FUNCAO")}, {"level", get("NIVEL FUNCAO")},
             {"agency", get("NOME ORGAO")}};
  for (const auto& [column, field] : {std::pair{"DATA INICIO EXERCICIO", "start"}, std::pair{"DATA FIM EXERCICIO", "end"},
                                      std::pair{"DATA FIM CARENCIA", "grace_end"}}) {
    std::string text = get(column);
    if (text.empty()) continue;
    auto date = verticals::iso_date(text);
    if (!date) return std::string(column) + " '" + text + "' is not a date (dd/mm/yyyy)";
    entry[field] = *date;
  }
  entry["active_until"] = entry.contains("grace_end") ? entry["grace_end"]
                          : entry.contains("end")     ? entry["end"]
                                                      : Json("9999-12-31");
  entry["id"] = entry_id(entry["cpf_visible"], folded, entry["role_acronym"], entry["agency"], entry.value("start", ""));
  return entry;
}

Json pep_mapping() {
  return {{"entity", "contact"}, {"columns", {{"name", "name"}}}};
}

void PepIndex::add(const Json& entry) {
  by_name_.emplace(entry.at("name_folded").get<std::string>(), entries_.size());
  entries_.push_back(entry);
}

std::vector<Json> PepIndex::matches(const std::string& name, const std::string& cpf, const std::string& today) const {
  std::vector<Json> hits;
  std::string folded = verticals::folded_name(name);
  std::string visible = cpf.size() == 11 ? cpf.substr(3, 6) : "";
  auto [first, last] = by_name_.equal_range(folded);
  for (auto it = first; it != last; ++it) {
    const Json& e = entries_[it->second];
    if (e.value("active_until", "") < today) continue;  // past the grace period: no longer a PEP
    if (!visible.empty() && e.value("cpf_visible", "") != visible) continue;  // a namesake
    hits.push_back({{"entry", e}, {"match", visible.empty() ? "name" : "cpf_and_name"}});
  }
  return hits;
}

}  // namespace nucleo::finance
