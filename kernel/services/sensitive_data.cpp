#include "kernel/services/sensitive_data.hpp"

#include <sstream>

#include "kernel/domain/error.hpp"

namespace nucleo::services {
namespace {

std::string trimmed(std::string s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

Error bad_item(const std::string& item, const std::string& why) {
  return Error(ErrorCode::validation, "audit.sensitive_reads: '" + item + "' " + why,
               {{"audit.sensitive_reads", "'" + item + "' " + why}});
}

}  // namespace

bool SensitiveData::is_data_class(std::string_view c) {
  return c == "pii" || c == "phi" || c == "financial";
}

void SensitiveData::mark_entity(const std::string& entity_type, const std::string& data_class) {
  marks_[entity_type].entity_class = data_class;
}

void SensitiveData::mark_attribute(const std::string& entity_type, const std::string& attribute,
                                   const std::string& data_class) {
  marks_[entity_type].attributes[attribute] = data_class;
}

SensitiveData SensitiveData::parse(std::string_view list) {
  SensitiveData sensitive;
  std::stringstream in{std::string(list)};
  for (std::string raw; std::getline(in, raw, ',');) {
    std::string item = trimmed(raw);
    if (item.empty()) continue;
    std::string target = item, data_class = "pii";
    if (auto colon = item.find(':'); colon != std::string::npos) {
      target = item.substr(0, colon);
      data_class = item.substr(colon + 1);
    }
    if (!is_data_class(data_class)) throw bad_item(item, "has data class '" + data_class + "'; use pii, phi or financial");
    std::string type = target.substr(0, target.find('.'));
    const EntitySpec* spec = find_entity_spec(type);
    if (!spec) throw bad_item(item, "names no entity type");
    if (type == target) {
      sensitive.mark_entity(type, data_class);
      continue;
    }
    const std::string prefix = type + ".attributes.";
    if (target.rfind(prefix, 0) != 0 || target.size() == prefix.size() || !spec->has_attributes)
      throw bad_item(item, "is neither TYPE nor TYPE.attributes.KEY");
    sensitive.mark_attribute(type, target.substr(prefix.size()), data_class);
  }
  return sensitive;
}

// The configured marks of a type's attributes, and over them what plugins declared.
std::map<std::string, std::string> SensitiveData::declared_attributes(const std::string& entity_type) const {
  auto it = marks_.find(entity_type);
  std::map<std::string, std::string> out = it == marks_.end() ? std::map<std::string, std::string>{} : it->second.attributes;
  if (declared_)
    for (auto& [key, data_class] : declared_->sensitive_keys(entity_type)) out.emplace(key, data_class);
  return out;
}

bool SensitiveData::marks(std::string_view entity_type) const {
  return marks_.count(std::string(entity_type)) > 0 || needs_attributes(std::string(entity_type));
}

std::vector<std::string> SensitiveData::disclosed(const std::string& entity_type, const Json& record) const {
  std::vector<std::string> parts;
  auto it = marks_.find(entity_type);
  if (it != marks_.end() && !it->second.entity_class.empty()) parts.push_back("*:" + it->second.entity_class);
  const Json& attributes = record.contains("attributes") ? record["attributes"] : Json();
  for (const auto& [key, data_class] : declared_attributes(entity_type))
    if (attributes.is_object() && attributes.contains(key) && !attributes[key].is_null())
      parts.push_back("attributes." + key + ":" + data_class);
  return parts;
}

bool SensitiveData::needs_attributes(const std::string& entity_type) const {
  auto it = marks_.find(entity_type);
  return (it != marks_.end() && !it->second.attributes.empty()) || (declared_ && declared_->has_sensitive(entity_type));
}

}  // namespace nucleo::services
