#include "cnes.hpp"

#include "common/pack.hpp"

#include <charconv>
#include <map>

namespace nucleo::healthcare {
namespace {

using verticals::Columns;

bool digits_only(const std::string& s, std::size_t min, std::size_t max) {
  return s.size() >= min && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
}

// "-23,5505" or "-23.5505" within ±limit; nothing otherwise.
std::optional<double> coordinate(std::string text, double limit) {
  for (char& c : text)
    if (c == ',') c = '.';
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < -limit || value > limit)
    return std::nullopt;
  return value;
}

std::string management_of(const std::string& code) {
  static const std::map<std::string, std::string> spheres{
      {"M", "municipal"}, {"E", "estadual"}, {"D", "dupla"}, {"S", "sem_gestao"}};
  auto it = spheres.find(code);
  return it == spheres.end() ? "" : it->second;
}

// The registration's own fields: what a change is judged on.
bool bookkeeping(const std::string& field) { return field == "seen_in" || field == "last_change"; }

}  // namespace

const std::vector<std::string>& cnes_required_columns() {
  static const std::vector<std::string> columns{
      "CO_UNIDADE", "CO_CNES",  "NU_CNPJ_MANTENEDORA", "TP_PFPJ",           "NO_RAZAO_SOCIAL", "NO_FANTASIA",
      "NU_CNPJ",    "TP_UNIDADE", "CO_ESTADO_GESTOR", "CO_MUNICIPIO_GESTOR", "DT_ATUALIZACAO"};
  return columns;
}

std::vector<std::string> cnes_header(std::string_view line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // a byte-order mark
  std::vector<std::string> names;
  try {
    names = verticals::split_fields(line);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("not a CNES establishment extract: its header has ") + e.what());
  }
  std::string missing = Columns(names).missing(cnes_required_columns());
  if (!missing.empty())
    throw sdk::Error(NUCLEO_INVALID_ARGUMENT,
                     "not a CNES establishment extract (tbEstabelecimento, ';'-separated): the header lacks " + missing);
  return names;
}

std::variant<Json, std::string> cnes_registration(const Columns& columns, std::string_view line) {
  auto read = verticals::row_of(columns, line);
  if (auto* problem = std::get_if<std::string>(&read)) return *problem;
  const auto& row = std::get<std::vector<std::string>>(read);
  auto get = [&](const char* name) { return columns.get(row, name); };

  std::string cnes = get("CO_CNES");
  if (!digits_only(cnes, 7, 7)) return "CO_CNES '" + cnes + "' is not a CNES code (7 digits)";
  Json r{{"cnes", cnes}, {"unit_code", get("CO_UNIDADE")}};
  for (const auto& [column, field] : {std::pair{"NU_CNPJ", "cnpj"}, std::pair{"NU_CNPJ_MANTENEDORA", "mantenedora_cnpj"}}) {
    std::string value = verticals::digits_of(get(column));
    if (get(column).empty()) continue;
    if (!verticals::valid_cnpj(value)) return std::string(column) + " '" + get(column) + "' is not a valid CNPJ (check digits)";
    r[field] = value;
  }
  std::string name = get("NO_FANTASIA"), legal = get("NO_RAZAO_SOCIAL");
  if (name.empty() && legal.empty()) return std::string("NO_FANTASIA and NO_RAZAO_SOCIAL are both empty");
  r["name"] = name.empty() ? legal : name;
  r["legal_name"] = legal.empty() ? name : legal;
  if (r.contains("cnpj")) r["account_tax_id"] = r["cnpj"];
  else if (r.contains("mantenedora_cnpj")) r["account_tax_id"] = r["mantenedora_cnpj"];
  r["person_type"] = get("TP_PFPJ") == "1" ? "fisica" : get("TP_PFPJ") == "3" ? "juridica" : get("TP_PFPJ");

  std::string type = get("TP_UNIDADE");
  if (type.size() == 1) type = "0" + type;
  if (!digits_only(type, 2, 2)) return "TP_UNIDADE '" + get("TP_UNIDADE") + "' is not an establishment type code";
  r["type_code"] = type;
  r["type"] = establishment_type_label(type);
  if (std::string m = management_of(get("TP_GESTAO")); !m.empty()) r["management"] = m;
  std::string state = get("CO_ESTADO_GESTOR"), city = get("CO_MUNICIPIO_GESTOR");
  if (!state.empty() && !digits_only(state, 2, 2)) return "CO_ESTADO_GESTOR '" + state + "' is not an IBGE state code";
  if (!city.empty() && !digits_only(city, 6, 7)) return "CO_MUNICIPIO_GESTOR '" + city + "' is not an IBGE municipality code";
  if (!state.empty()) r["state_code"] = state;
  if (!city.empty()) r["municipality_ibge"] = city;

  auto updated = verticals::iso_date(get("DT_ATUALIZACAO"));
  if (!updated) return "DT_ATUALIZACAO '" + get("DT_ATUALIZACAO") + "' is not a date (dd/mm/yyyy)";
  r["registration_updated_on"] = *updated;

  Json address = Json::object();
  for (const auto& [column, field] : {std::pair{"NO_LOGRADOURO", "line"}, std::pair{"NU_ENDERECO", "number"},
                                      std::pair{"NO_COMPLEMENTO", "complement"}, std::pair{"NO_BAIRRO", "district"},
                                      std::pair{"CO_CEP", "postal_code"}})
    if (std::string v = get(column); !v.empty()) address[field] = v;
  if (!address.empty()) r["address"] = address;
  if (std::string v = get("NU_TELEFONE"); !v.empty()) r["phone"] = v;
  if (std::string v = get("NO_EMAIL"); !v.empty()) r["email"] = v;
  if (std::string v = get("CO_NATUREZA_JUR"); !v.empty()) r["legal_nature"] = v;

  // Coordinates are often missing or garbled in the registry; a bad one costs the
  // establishment its position, not its registration — and says so.
  Json problems = Json::array();
  std::string lat = get("NU_LATITUDE"), lon = get("NU_LONGITUDE");
  if (!lat.empty() || !lon.empty()) {
    auto la = coordinate(lat, 90), lo = coordinate(lon, 180);
    if (la && lo) {
      r["latitude"] = *la;
      r["longitude"] = *lo;
    } else {
      problems.push_back("NU_LATITUDE/NU_LONGITUDE '" + lat + "', '" + lon + "' are not coordinates: position left out");
    }
  }
  if (!problems.empty()) r["problems"] = problems;
  return r;
}

Json account_fields(const Json& r) {
  if (!r.contains("cnpj")) return nullptr;
  Json fields{{"legal_name", r["legal_name"]},
              {"trade_name", r["name"]},
              {"tax_id", r["cnpj"]},
              {"cnes", r["cnes"]},
              {"establishment_type", r["type_code"]},
              {"registration_updated_on", r["registration_updated_on"]}};
  for (const char* field : {"management", "municipality_ibge"})
    if (r.contains(field)) fields[field] = r[field];
  if (r.contains("mantenedora_cnpj") && r["mantenedora_cnpj"] != r["cnpj"]) fields["mantenedora_cnpj"] = r["mantenedora_cnpj"];
  return fields;
}

Json cnes_mapping() {
  return {{"entity", "account"},
          {"key", "tax_id"},
          {"columns",
           {{"legal_name", "legal_name"},
            {"trade_name", "trade_name"},
            {"tax_id", "tax_id"},
            {"cnes", "attributes.health.cnes"},
            {"establishment_type", "attributes.health.establishment_type"},
            {"management", "attributes.health.management"},
            {"municipality_ibge", "attributes.health.municipality_ibge"},
            {"mantenedora_cnpj", "attributes.health.mantenedora_cnpj"},
            {"registration_updated_on", "attributes.health.registration_updated_on"}}}};
}

Json registration_changes(const Json& before, const Json& after) {
  Json changes = Json::object();
  for (const auto& [field, value] : after.items())
    if (!bookkeeping(field) && before.value(field, Json()) != value) changes[field] = {{"from", before.value(field, Json())}, {"to", value}};
  for (const auto& [field, value] : before.items())
    if (!bookkeeping(field) && !after.contains(field)) changes[field] = {{"from", value}, {"to", nullptr}};
  return changes;
}

std::string establishment_type_label(const std::string& code) {
  static const std::map<std::string, std::string> labels{
      {"01", "POSTO DE SAUDE"},
      {"02", "CENTRO DE SAUDE/UNIDADE BASICA"},
      {"04", "POLICLINICA"},
      {"05", "HOSPITAL GERAL"},
      {"07", "HOSPITAL ESPECIALIZADO"},
      {"15", "UNIDADE MISTA"},
      {"20", "PRONTO SOCORRO GERAL"},
      {"21", "PRONTO SOCORRO ESPECIALIZADO"},
      {"22", "CONSULTORIO ISOLADO"},
      {"36", "CLINICA/CENTRO DE ESPECIALIDADE"},
      {"39", "UNIDADE DE APOIO DIAGNOSE E TERAPIA (SADT ISOLADO)"},
      {"40", "UNIDADE MOVEL TERRESTRE"},
      {"43", "FARMACIA"},
      {"50", "UNIDADE DE VIGILANCIA EM SAUDE"},
      {"61", "CENTRO DE PARTO NORMAL - ISOLADO"},
      {"62", "HOSPITAL/DIA - ISOLADO"},
      {"69", "CENTRO DE ATENCAO HEMOTERAPIA E OU HEMATOLOGICA"},
      {"70", "CENTRO DE ATENCAO PSICOSSOCIAL"},
      {"73", "PRONTO ATENDIMENTO"},
      {"77", "SERVICO DE ATENCAO DOMICILIAR ISOLADO (HOME CARE)"},
      {"80", "LABORATORIO DE SAUDE PUBLICA"},
      {"85", "CENTRO DE IMUNIZACAO"}};
  auto it = labels.find(code);
  return it == labels.end() ? code : it->second;
}

}  // namespace nucleo::healthcare
