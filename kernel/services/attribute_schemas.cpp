#include "kernel/services/attribute_schemas.hpp"

#include "kernel/services/sensitive_data.hpp"

#include <algorithm>
#include <set>

#include <mutex>
#include <regex>


namespace nucleo::services {
namespace {

const std::regex& key_pattern() {
  static const std::regex pattern("^[a-z][a-z0-9_]{0,31}\\.[a-z][a-z0-9_]{0,63}$");
  return pattern;
}

// An attribute's own keywords beside JSON Schema's: "required": true, the key must be
// present on every write of the entity; "personal": true, its value is the personal data
// of the record's data subject (sealed in the audit trail, erased with her); (ABI 1.7)
// "sensitive": "phi" | "pii" | "financial", reading it is audited (SensitiveData).
const std::set<std::string> attribute_keywords{"required", "personal", "sensitive"};

}  // namespace

void AttributeSchemas::add(const std::string& owner, const std::string& entity_type, const Json& schema) {
  if (!schema.is_object() || schema.empty())
    throw Error(ErrorCode::validation, "an attribute schema is a non-empty object of \"<namespace>.<key>\": rule");
  std::vector<FieldError> problems;
  std::unique_lock lock(mutex_);
  auto& declared = by_entity_[entity_type];
  for (const auto& [key, rule] : schema.items()) {
    if (!std::regex_match(key, key_pattern()))
      problems.push_back({key, "must be <namespace>.<key> in lower-case letters, digits and _"});
    for (const auto& p : ValueSchema::problems(rule, attribute_keywords)) problems.push_back({key, p});
    for (const char* flag : {"required", "personal"})
      if (rule.is_object() && rule.contains(flag) && !rule[flag].is_boolean())
        problems.push_back({key, std::string(flag) + " must be true or false"});
    if (rule.is_object() && rule.contains("sensitive") &&
        !(rule["sensitive"].is_string() && SensitiveData::is_data_class(rule["sensitive"].get<std::string>())))
      problems.push_back({key, "sensitive must be phi, pii or financial"});
    auto found = declared.find(key);
    if (found != declared.end() && found->second.owner != owner)
      problems.push_back({key, "is declared already by " + found->second.owner});
  }
  if (!problems.empty()) {
    throw validation_error("attribute schema of " + owner + " for " + entity_type, problems);
  }
  for (const auto& [key, rule] : schema.items())
    declared[key] = {owner, rule, std::make_shared<ValueSchema>(rule, attribute_keywords)};
}

void AttributeSchemas::remove_owner(const std::string& owner) {
  std::unique_lock lock(mutex_);
  for (auto& [type, declared] : by_entity_)
    std::erase_if(declared, [&](const auto& entry) { return entry.second.owner == owner; });
}

std::vector<FieldError> AttributeSchemas::check(const std::string& entity_type, const Json& attributes) const {
  std::shared_lock lock(mutex_);
  std::vector<FieldError> out;
  auto found = by_entity_.find(entity_type);
  if (found == by_entity_.end()) return out;
  for (const auto& [key, declared] : found->second) {
    const Json value = attributes.is_object() && attributes.contains(key) ? attributes[key] : Json();
    if (value.is_null()) {
      if (declared.rule.value("required", false))
        out.push_back({"attributes." + key, "is required (declared by " + declared.owner + ")"});
      continue;
    }
    for (auto& problem : declared.schema->check(value))
      out.push_back({"attributes." + key + problem.path, std::move(problem.message)});
  }
  return out;
}

Json AttributeSchemas::declared(const std::string& entity_type) const {
  std::shared_lock lock(mutex_);
  Json out = Json::object();
  auto found = by_entity_.find(entity_type);
  if (found != by_entity_.end())
    for (const auto& [key, d] : found->second) out[key] = d.rule;
  return out;
}

std::vector<std::string> AttributeSchemas::personal_keys(const std::string& entity_type) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto found = by_entity_.find(entity_type);
  if (found != by_entity_.end())
    for (const auto& [key, d] : found->second)
      if (d.rule.value("personal", false)) out.push_back(key);
  return out;
}

bool AttributeSchemas::has_sensitive(const std::string& entity_type) const {
  std::shared_lock lock(mutex_);
  auto found = by_entity_.find(entity_type);
  if (found == by_entity_.end()) return false;
  return std::any_of(found->second.begin(), found->second.end(),
                     [](const auto& entry) { return entry.second.rule.contains("sensitive"); });
}

std::map<std::string, std::string> AttributeSchemas::sensitive_keys(const std::string& entity_type) const {
  std::shared_lock lock(mutex_);
  std::map<std::string, std::string> out;
  auto found = by_entity_.find(entity_type);
  if (found != by_entity_.end())
    for (const auto& [key, d] : found->second)
      if (d.rule.contains("sensitive")) out[key] = d.rule["sensitive"];
  return out;
}

std::optional<std::string> AttributeSchemas::type_of(const std::string& entity_type, const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto found = by_entity_.find(entity_type);
  if (found == by_entity_.end()) return std::nullopt;
  auto rule = found->second.find(key);
  if (rule == found->second.end()) return std::nullopt;
  return rule->second.rule["type"].get<std::string>();
}

}  // namespace nucleo::services
