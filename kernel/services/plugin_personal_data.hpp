#pragma once

#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"

namespace nucleo::services {

// Whose personal data a collection's documents are (plugin.json collections.<name>.personal,
// docs/plugin-authoring.md "Personal data"): the indexed string field naming the contact
// they are about, the fields that hold her data, and what erasing her does — "delete"
// the documents, or "redact" the personal fields and keep the rest.
struct PersonalData {
  std::string subject_field;
  std::vector<std::string> fields;
  std::string on_erasure = "delete";  // delete | redact

  Json to_json() const;
  static PersonalData from_json(const Json& j);
};

}  // namespace nucleo::services
