#include "fhir.hpp"

#include "common/pack.hpp"

namespace nucleo::healthcare::fhir {
namespace {

using verticals::text;

Json address_of(const Json& a, const std::string& municipality) {
  Json address{{"use", "work"}, {"type", "physical"}, {"country", "BR"}};
  std::string line = text(a, "line");
  if (!text(a, "number").empty()) line += (line.empty() ? "" : ", ") + text(a, "number");
  if (!line.empty()) address["line"] = Json::array({line});
  if (!text(a, "complement").empty()) address["line"].push_back(text(a, "complement"));
  if (!text(a, "district").empty()) address["district"] = text(a, "district");
  if (!text(a, "postal_code").empty()) address["postalCode"] = text(a, "postal_code");
  if (!municipality.empty()) address["extension"] = Json::array({{{"url", municipality_extension}, {"valueCode", municipality}}});
  return address;
}

}  // namespace

std::string id_of(const std::string& nucleo_id) {
  std::string out = nucleo_id.substr(0, 64);
  for (char& c : out)
    if (c == '_') c = '-';
  return out;
}

std::string nucleo_id_of(const std::string& fhir_id) {
  std::string out = fhir_id;
  auto dash = out.find('-');
  if (dash != std::string::npos) out[dash] = '_';  // only the prefix's separator: ids hold no other
  return out;
}

Json organization(const Json& account, const std::string& parent_id) {
  const Json& attributes = account.value("attributes", Json::object());
  Json org{{"resourceType", "Organization"},
           {"id", id_of(account.at("id"))},
           {"active", account.value("archived_at", Json()).is_null()},
           {"name", account.at("legal_name")}};
  Json identifiers = Json::array();
  if (std::string cnes = text(attributes, "health.cnes"); !cnes.empty())
    identifiers.push_back({{"use", "official"}, {"system", cnes_system}, {"value", cnes}});
  if (std::string tax = text(account, "tax_id"); tax.size() == 14)
    identifiers.push_back({{"use", "official"}, {"system", cnpj_system}, {"value", tax}});
  if (!identifiers.empty()) org["identifier"] = identifiers;
  if (std::string trade = text(account, "trade_name"); !trade.empty() && trade != org["name"]) org["alias"] = Json::array({trade});
  if (std::string type = text(attributes, "health.establishment_type"); !type.empty())
    org["type"] = Json::array({{{"coding", Json::array({{{"system", establishment_type_system}, {"code", type}}})}}});
  Json telecom = Json::array();
  for (const auto& phone : account.value("phones", Json::array()))
    if (phone.is_string()) telecom.push_back({{"system", "phone"}, {"value", phone}, {"use", "work"}});
  for (const auto& email : account.value("emails", Json::array()))
    if (email.is_string()) telecom.push_back({{"system", "email"}, {"value", email}, {"use", "work"}});
  if (!telecom.empty()) org["telecom"] = telecom;
  if (std::string city = text(attributes, "health.municipality_ibge"); !city.empty())
    org["address"] = Json::array({address_of(Json::object(), city)});
  if (!parent_id.empty()) org["partOf"] = {{"reference", "Organization/" + id_of(parent_id)}};
  return org;
}

Json location(const Json& e, const std::string& organization_id) {
  Json loc{{"resourceType", "Location"},
           {"id", "cnes-" + text(e, "cnes")},
           {"identifier", Json::array({{{"use", "official"}, {"system", cnes_system}, {"value", text(e, "cnes")}}})},
           {"status", "active"},
           {"name", text(e, "name")},
           {"mode", "instance"},
           {"physicalType", {{"coding", Json::array({{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
                                                      {"code", "bu"}, {"display", "Building"}}})}}}};
  if (!text(e, "type_code").empty())
    loc["type"] = Json::array({{{"coding", Json::array({{{"system", establishment_type_system},
                                                         {"code", text(e, "type_code")},
                                                         {"display", text(e, "type")}}})}}});
  Json telecom = Json::array();
  if (!text(e, "phone").empty()) telecom.push_back({{"system", "phone"}, {"value", text(e, "phone")}});
  if (!text(e, "email").empty()) telecom.push_back({{"system", "email"}, {"value", text(e, "email")}});
  if (!telecom.empty()) loc["telecom"] = telecom;
  loc["address"] = address_of(e.value("address", Json::object()), text(e, "municipality_ibge"));
  if (e.contains("latitude") && e.contains("longitude"))
    loc["position"] = {{"latitude", e["latitude"]}, {"longitude", e["longitude"]}};
  if (!organization_id.empty()) loc["managingOrganization"] = {{"reference", "Organization/" + id_of(organization_id)}};
  return loc;
}

Json practitioner(const Json& contact) {
  Json p{{"resourceType", "Practitioner"},
         {"id", id_of(contact.at("id"))},
         {"active", contact.value("archived_at", Json()).is_null()},
         {"name", Json::array({{{"text", text(contact, "name")}}})}};
  Json telecom = Json::array();
  if (!text(contact, "email").empty()) telecom.push_back({{"system", "email"}, {"value", text(contact, "email")}});
  if (!text(contact, "phone").empty()) telecom.push_back({{"system", "phone"}, {"value", text(contact, "phone")}});
  if (!telecom.empty()) p["telecom"] = telecom;
  const Json& attributes = contact.value("attributes", Json::object());
  if (std::string council = text(attributes, "health.council_registration"); !council.empty())
    p["qualification"] = Json::array({{{"code", {{"text", council}}}}});
  return p;
}

Json practitioner_role(const Json& stored, const std::string& today) {
  const Json& r = stored.at("document");
  std::string to = text(r, "to");
  Json role{{"resourceType", "PractitionerRole"},
            {"id", id_of(stored.at("id"))},
            {"active", to.empty() || to >= today},
            {"period", {{"start", text(r, "from")}}},
            {"practitioner", {{"reference", "Practitioner/" + id_of(text(r, "contact_id"))}}},
            {"organization", {{"reference", "Organization/" + id_of(text(r, "account_id"))}}},
            {"code", Json::array({{{"coding", Json::array({{{"system", role_system}, {"code", text(r, "role")}}})}}})}};
  if (!to.empty()) role["period"]["end"] = to;
  if (!text(r, "establishment_cnes").empty())
    role["location"] = Json::array({{{"reference", "Location/cnes-" + text(r, "establishment_cnes")}}});
  return role;
}

Json searchset(const Json& matches, const Json& includes, const std::string& self, const std::string& next) {
  Json bundle{{"resourceType", "Bundle"}, {"type", "searchset"}, {"link", Json::array({{{"relation", "self"}, {"url", self}}})}};
  if (!next.empty()) bundle["link"].push_back({{"relation", "next"}, {"url", next}});
  Json entries = Json::array();
  auto add = [&](const Json& resource, const char* mode) {
    entries.push_back({{"fullUrl", resource["resourceType"].get<std::string>() + "/" + resource["id"].get<std::string>()},
                       {"resource", resource},
                       {"search", {{"mode", mode}}}});
  };
  for (const auto& r : matches) add(r, "match");
  for (const auto& r : includes) add(r, "include");
  bundle["entry"] = entries;
  return bundle;
}

}  // namespace nucleo::healthcare::fhir
