#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/services/attribute_schemas.hpp"

namespace nucleo::services {

// What a deployment marks sensitive (docs/architecture.md §5): reading it is recorded in the audit
// log like a write. A whole entity type (a healthcare pack marks interactions PHI) or
// one plugin attribute of a type (a finance pack marks deal attribute
// finance.credit_limit financial). Filled at start-up — from audit.sensitive_reads,
// and by plugins — and read-only while serving.
class SensitiveData {
 public:
  // Data classes, as plugin manifests name them.
  static bool is_data_class(std::string_view data_class);

  // Also what plugins declare "sensitive" among their attributes (ABI 1.7), read at each
  // decision: a plugin loaded after start-up marks its attributes too.
  void consult(const AttributeSchemas& declared) { declared_ = &declared; }

  void mark_entity(const std::string& entity_type, const std::string& data_class);
  void mark_attribute(const std::string& entity_type, const std::string& attribute, const std::string& data_class);

  // "interaction:phi, deal.attributes.finance.credit_limit:financial" (class optional,
  // "pii" by default). Throws Error(validation) naming the bad item.
  static SensitiveData parse(std::string_view list);

  bool marks(std::string_view entity_type) const;
  // What reading `record` discloses: "*:phi" for a sensitive type, else each non-null
  // sensitive attribute as "attributes.<key>:<class>". Empty: nothing sensitive.
  std::vector<std::string> disclosed(const std::string& entity_type, const Json& record) const;
  // True when the decision needs the record's attributes (not just its type).
  bool needs_attributes(const std::string& entity_type) const;

 private:
  struct Marks {
    std::string entity_class;                         // empty: the type itself is not sensitive
    std::map<std::string, std::string> attributes;    // attribute key → class
  };
  std::map<std::string, std::string> declared_attributes(const std::string& entity_type) const;
  std::map<std::string, Marks> marks_;
  const AttributeSchemas* declared_ = nullptr;
};

}  // namespace nucleo::services
