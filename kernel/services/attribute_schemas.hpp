#pragma once

// Attributes plugins declare on core entities (docs/architecture.md §6): namespaced keys in a
// record's `attributes` ("finance.credit_limit"), each with a JSON Schema (draft 7, the
// keywords ValueSchema accepts: type, enum, bounds, lengths, pattern, nested properties
// and items, Nucleo's formats) plus "required": true and "personal": true. Every write of the entity is
// checked against them in its transaction; keys nobody declared pass unchecked (a plugin
// may be unloaded, its data stays).

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/value_schema.hpp"

namespace nucleo::services {

class AttributeSchemas {
 public:
  // Declares `schema` ({"<namespace>.<key>": rule, …}) for `entity_type` on behalf of
  // `owner` (a plugin id). All or nothing: throws Error(validation) naming each bad key
  // or rule, or a key another owner declared already.
  void add(const std::string& owner, const std::string& entity_type, const Json& schema);

  // Forgets every key `owner` declared (a plugin whose load failed half-way).
  void remove_owner(const std::string& owner);

  // What is wrong with a record's attributes, as fields "attributes.<key>".
  std::vector<FieldError> check(const std::string& entity_type, const Json& attributes) const;

  // The declared keys of an entity type and their rules (OpenAPI).
  Json declared(const std::string& entity_type) const;
  // The keys of an entity type declared "personal": true.
  std::vector<std::string> personal_keys(const std::string& entity_type) const;
  // The keys of an entity type declared "sensitive", with their data class (ABI 1.7).
  std::map<std::string, std::string> sensitive_keys(const std::string& entity_type) const;
  bool has_sensitive(const std::string& entity_type) const;
  // The declared type of one key ("integer", …), if any (search).
  std::optional<std::string> type_of(const std::string& entity_type, const std::string& key) const;

 private:
  struct Declared {
    std::string owner;
    Json rule;
    std::shared_ptr<const ValueSchema> schema;  // compiled once, not on every write
  };
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::map<std::string, Declared>> by_entity_;  // entity type → key → rule
};

}  // namespace nucleo::services
