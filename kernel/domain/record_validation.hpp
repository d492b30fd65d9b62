#pragma once

#include <string>

#include "kernel/domain/entity.hpp"

namespace nucleo {

struct NormalisationSettings {
  std::string default_region = "BR";  // normalise.default_region
};

enum class WriteMode { create, update };

// Checks a caller's JSON object against the entity's fields and returns the
// normalised values of the fields it sets (on create, with defaults filled in and
// every field present, null when unset).
//
// Every problem is collected before throwing one Error(validation) whose fields()
// name each offending field: unknown fields, read-only system fields, derived fields,
// missing required fields, wrong types, values that fail normalisation.
//
// `current` is the stored record on update (empty on create): fields that depend on
// another (a tax id on its country) read the other from the input or, failing that,
// from it.
Json validate_record_input(const EntitySpec& spec, const Json& input, WriteMode mode,
                           const NormalisationSettings& settings, const Json& current = Json::object());

}  // namespace nucleo
