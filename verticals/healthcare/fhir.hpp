#pragma once

// The pack's records as FHIR R4 resources (https://hl7.org/fhir/R4/): institutions as
// Organization (identifier slices for CNES and CNPJ, partOf for the mantenedora),
// establishments as Location, people with a role as Practitioner and their roles over
// time as PractitionerRole; and the searchset Bundle that carries a page of them. Brazil's
// identifiers use the naming systems of the RNDS (Rede Nacional de Dados em Saúde).

#include <string>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare::fhir {

using nucleo::sdk::Json;

inline constexpr const char* cnes_system = "http://www.saude.gov.br/fhir/r4/NamingSystem/cnes";
inline constexpr const char* cnpj_system = "http://www.saude.gov.br/fhir/r4/NamingSystem/cnpj";
inline constexpr const char* establishment_type_system =
    "http://www.saude.gov.br/fhir/r4/CodeSystem/BRTipoEstabelecimentoSaude";
inline constexpr const char* municipality_extension = "http://www.saude.gov.br/fhir/r4/StructureDefinition/BRMunicipio-1.0";
inline constexpr const char* role_system = "urn:nucleo:healthcare:institutional-role";

// A Nucleo id as a FHIR id ([A-Za-z0-9-.]{1,64}): "acc_01…" → "acc-01…", and back.
std::string id_of(const std::string& nucleo_id);
std::string nucleo_id_of(const std::string& fhir_id);

// An account → Organization. `parent_id`: the mantenedora's account id, or "".
Json organization(const Json& account, const std::string& parent_id);
// An establishment registration → Location; `organization_id` the account it belongs to, or "".
Json location(const Json& establishment, const std::string& organization_id);
// A contact → Practitioner.
Json practitioner(const Json& contact);
// A role record ({"id", "document"}) → PractitionerRole, active on `today` (YYYY-MM-DD).
Json practitioner_role(const Json& stored_role, const std::string& today);

// A searchset Bundle: `matches` and `includes` as entries, `self` and `next` (empty: none) links.
Json searchset(const Json& matches, const Json& includes, const std::string& self, const std::string& next);

}  // namespace nucleo::healthcare::fhir
