#pragma once

// The CGU's list of politically exposed persons (Portal da Transparência, AAAAMM_PEP.csv:
// ';'-separated, ISO-8859-1, CPF masked as ***.NNN.NNN-**) read into entries, and the
// screening of people against it: by the CPF's visible digits plus the name folded for
// comparison (accents, case, spacing), or by the name alone when a person has no CPF.
// Pure functions: finance.cpp reads and writes through the host.

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::finance {

using nucleo::sdk::Json;

// The header's column names, folded ("Sigla_Função" → "SIGLA FUNCAO"); throws
// sdk::Error(INVALID_ARGUMENT) naming the columns of the CGU layout the file lacks.
std::vector<std::string> pep_header(std::string_view utf8_line);

// One line (UTF-8) → an entry {id, cpf_visible, name, name_folded, role_acronym, role,
// level, agency, start, end, grace_end, active_until}, or why the line cannot be read.
// A person stays a PEP until the end of the grace period (Data_Fim_Carência); without
// an end of exercise, for as long as the list says so ("9999-12-31").
std::variant<Json, std::string> pep_entry(const verticals::Columns& folded_columns, std::string_view utf8_line);

// The format's mapping (its rows are records of the pack's store only).
Json pep_mapping();

// The entries of one list, indexed for screening.
class PepIndex {
 public:
  void add(const Json& entry);
  std::size_t size() const { return entries_.size(); }
  // The entries `person` matches on `today`: person {"name", "cpf" (11 digits, or "")}.
  // Each hit {"entry": <entry>, "match": "cpf_and_name" | "name"}.
  std::vector<Json> matches(const std::string& name, const std::string& cpf, const std::string& today) const;

 private:
  std::vector<Json> entries_;
  std::multimap<std::string, std::size_t> by_name_;  // folded name → entry
};

}  // namespace nucleo::finance
