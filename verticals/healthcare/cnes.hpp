#pragma once

// DATASUS CNES establishment extracts (tbEstabelecimento<AAAAMM>.csv: ';'-separated,
// ISO-8859-1, quoted fields, a header line) read into establishments: what one line
// says, checked, and what changed between two registrations of one establishment. Pure
// functions: healthcare.cpp reads the previous registration and writes through the host.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::healthcare {

using nucleo::sdk::Json;

// The columns a line must have to be read (others are optional, or ignored).
const std::vector<std::string>& cnes_required_columns();

// The header line's column names; throws sdk::Error(INVALID_ARGUMENT) naming the columns a
// CNES establishment extract must have and this one lacks.
std::vector<std::string> cnes_header(std::string_view utf8_line);

// One data line (already UTF-8) → the establishment's registration, or why the line
// cannot be read. The registration: {cnes, unit_code, name, legal_name, cnpj,
// mantenedora_cnpj, account_tax_id, person_type, type_code, type, management, state_code,
// municipality_ibge, address{…}, phone, email, latitude, longitude, legal_nature,
// registration_updated_on, problems[]} — absent fields left out.
std::variant<Json, std::string> cnes_registration(const verticals::Columns& columns, std::string_view utf8_line);

// The account an establishment with its own CNPJ is (the import's "fields" row, keys as
// the format's mapping names them); null for a unit without one.
Json account_fields(const Json& registration);

// The format's mapping: an account per CNPJ, the CNES registration in attributes health.*.
Json cnes_mapping();

// {field: {"from", "to"}} for each registration field that differs (the bookkeeping of
// the pack — seen_in, last_change — aside). Empty object: the same registration.
Json registration_changes(const Json& before, const Json& after);

// "05" → "HOSPITAL GERAL" (TP_UNIDADE); the code itself when unknown.
std::string establishment_type_label(const std::string& code);

}  // namespace nucleo::healthcare
