#include "inep.hpp"

#include "common/pack.hpp"

namespace nucleo::education {
namespace {

const std::vector<std::string>& required_columns() {
  static const std::vector<std::string> columns{"NU_ANO_CENSO", "SG_UF", "CO_MUNICIPIO", "NO_ENTIDADE", "CO_ENTIDADE",
                                                "TP_DEPENDENCIA", "TP_SITUACAO_FUNCIONAMENTO"};
  return columns;
}

bool digits(const std::string& s, std::size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::vector<std::string> school_header(std::string_view line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  std::vector<std::string> names;
  try {
    names = verticals::split_fields(line);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("not the census's school table: its header has ") + e.what());
  }
  for (auto& n : names)
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string missing = verticals::Columns(names).missing(required_columns());
  if (!missing.empty())
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT,
                     "not the INEP school census table (microdados Tabela de Escola, ';'-separated): the header lacks " + missing);
  return names;
}

std::variant<Json, std::string> school_entry(const verticals::Columns& columns, std::string_view line) {
  auto read = verticals::row_of(columns, line);
  if (auto* problem = std::get_if<std::string>(&read)) return *problem;
  const auto& row = std::get<std::vector<std::string>>(read);
  auto get = [&](const char* name) { return columns.get(row, name); };
  std::string code = get("CO_ENTIDADE"), municipality = get("CO_MUNICIPIO"), name = get("NO_ENTIDADE");
  if (!digits(code, 8)) return "CO_ENTIDADE '" + code + "' is not an INEP school code (8 digits)";
  if (!digits(municipality, 7)) return "CO_MUNICIPIO '" + municipality + "' is not an IBGE municipality code (7 digits)";
  if (name.empty()) return std::string("NO_ENTIDADE is empty");
  static const char* administrations[] = {"", "federal", "estadual", "municipal", "privada"};
  std::string dependency = get("TP_DEPENDENCIA");
  if (dependency.size() != 1 || dependency[0] < '1' || dependency[0] > '4')
    return "TP_DEPENDENCIA '" + dependency + "' is not 1 (federal), 2 (estadual), 3 (municipal) or 4 (privada)";
  Json school{{"inep_code", code}, {"name", name}, {"municipality_ibge", municipality}, {"uf", get("SG_UF")},
              {"administration", administrations[dependency[0] - '0']}, {"operating", get("TP_SITUACAO_FUNCIONAMENTO") == "1"},
              {"census_year", get("NU_ANO_CENSO")}};
  std::string students = get("QT_MAT_BAS");
  if (!students.empty()) {
    if (students.find_first_not_of("0123456789") != std::string::npos) return "QT_MAT_BAS '" + students + "' is not a count";
    school["students"] = std::stol(students);
  }
  for (const auto& [column, field] : {std::pair{"NU_CNPJ_ESCOLA_PRIVADA", "cnpj"}, std::pair{"NU_CNPJ_MANTENEDORA", "mantenedora_cnpj"}}) {
    std::string cnpj = verticals::digits_of(get(column));
    if (cnpj.empty()) continue;
    if (!verticals::valid_cnpj(cnpj)) return std::string(column) + " '" + get(column) + "' is not a valid CNPJ";
    school[field] = cnpj;
  }
  return school;
}

Json school_mapping() {
  return {{"entity", "account"},
          {"key", "tax_id"},
          {"columns", {{"name", "legal_name"}, {"cnpj", "tax_id"}, {"inep_code", "attributes.edu.inep_code"},
                       {"kind", "attributes.edu.kind"}, {"administration", "attributes.edu.administration"},
                       {"students", "attributes.edu.students"}}}};
}

}  // namespace nucleo::education
