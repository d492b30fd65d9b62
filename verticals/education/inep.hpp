#pragma once

// The INEP school census (Censo Escolar, microdados "Tabela de Escola"), read a line at a
// time: every school becomes a record of the pack's registry keyed by its INEP code, and a
// private school with a CNPJ also an account (docs/verticals/education.md).

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::education {

using nucleo::sdk::Json;

// The header's columns (upper case); throws sdk::Error (INVALID_ARGUMENT) naming the
// columns it lacks when the file is not the census's school table.
std::vector<std::string> school_header(std::string_view line);

// One school: {"inep_code", "name", "municipality_ibge", "uf", "administration",
// "operating", "students", "cnpj"?, "mantenedora_cnpj"?, "census_year"} — or why the line
// cannot be read.
std::variant<Json, std::string> school_entry(const verticals::Columns& columns, std::string_view line);

// The mapping an import of the format uses: the school's account, keyed by CNPJ.
Json school_mapping();

}  // namespace nucleo::education
