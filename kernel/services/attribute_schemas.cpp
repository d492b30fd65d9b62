#include "kernel/services/attribute_schemas.hpp"

#include <mutex>
#include <regex>

#include "kernel/domain/normalise.hpp"

namespace nucleo::services {
namespace {

const std::regex& key_pattern() {
  static const std::regex pattern("^[a-z][a-z0-9_]{0,31}\\.[a-z][a-z0-9_]{0,63}$");
  return pattern;
}

// Problems with one rule, in words.
std::vector<std::string> rule_problems(const Json& rule) {
  std::vector<std::string> out;
  if (!rule.is_object()) return {"must be an object: {\"type\", \"required\", \"enum\", …}"};
  static const std::vector<std::string> known{"type", "required", "enum", "pattern", "minimum", "maximum", "format",
                                              "description"};
  for (const auto& [k, v] : rule.items())
    if (std::find(known.begin(), known.end(), k) == known.end()) out.push_back("'" + k + "' is not supported");
  std::string type = rule.value("type", Json("")).is_string() ? rule.value("type", "") : "";
  if (type != "string" && type != "integer" && type != "number" && type != "boolean")
    out.push_back("type must be string, integer, number or boolean");
  if (rule.contains("required") && !rule["required"].is_boolean()) out.push_back("required must be true or false");
  if (rule.contains("enum") && (!rule["enum"].is_array() || rule["enum"].empty())) out.push_back("enum must be a non-empty array");
  for (const char* bound : {"minimum", "maximum"})
    if (rule.contains(bound) && (!rule[bound].is_number() || (type != "integer" && type != "number")))
      out.push_back(std::string(bound) + " must be a number, on an integer or number attribute");
  if (rule.contains("pattern")) {
    if (!rule["pattern"].is_string() || type != "string") {
      out.push_back("pattern must be a regular expression, on a string attribute");
    } else {
      try {
        std::regex(rule["pattern"].get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        out.push_back("pattern is not a valid regular expression");
      }
    }
  }
  if (rule.contains("format")) {
    static const std::vector<std::string> formats{"date", "email", "phone", "cnpj", "cpf"};
    bool ok = rule["format"].is_string() && type == "string" &&
              std::find(formats.begin(), formats.end(), rule["format"].get<std::string>()) != formats.end();
    if (!ok) out.push_back("format must be date, email, phone, cnpj or cpf, on a string attribute");
  }
  return out;
}

bool has_format(const std::string& format, const std::string& value) {
  if (format == "date") return is_calendar_date(value);
  if (format == "email") return normalise_email(value).has_value();
  // A phone must be international (+55 11 …): there is no region to assume it in.
  if (format == "phone") return !value.empty() && value[0] == '+' && normalise_phone(value, "ZZ").has_value();
  auto tax = normalise_tax_id(value, "BR");
  if (format == "cnpj") return tax && tax->kind == TaxIdKind::cnpj;
  if (format == "cpf") return tax && tax->kind == TaxIdKind::cpf;
  return false;
}

// Why `value` breaks `rule` (its pattern compiled), or empty.
std::string violation(const Json& rule, const std::optional<std::regex>& pattern, const Json& value) {
  const std::string type = rule["type"];
  bool typed = (type == "string" && value.is_string()) || (type == "integer" && value.is_number_integer()) ||
               (type == "number" && value.is_number()) || (type == "boolean" && value.is_boolean());
  if (!typed) return "must be " + std::string(type == "integer" ? "an integer" : "a " + type);
  if (rule.contains("enum") && std::find(rule["enum"].begin(), rule["enum"].end(), value) == rule["enum"].end())
    return "must be one of " + rule["enum"].dump();
  if (rule.contains("minimum") && value.get<double>() < rule["minimum"].get<double>())
    return "must be at least " + rule["minimum"].dump();
  if (rule.contains("maximum") && value.get<double>() > rule["maximum"].get<double>())
    return "must be at most " + rule["maximum"].dump();
  if (pattern && !std::regex_search(value.get<std::string>(), *pattern))
    return "must match " + rule["pattern"].get<std::string>();
  if (rule.contains("format") && !has_format(rule["format"], value.get<std::string>()))
    return "must be a valid " + rule["format"].get<std::string>() +
           (rule["format"] == "phone" ? " in international form (+55 11 …)" : "");
  return "";
}

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
    for (const auto& p : rule_problems(rule)) problems.push_back({key, p});
    auto found = declared.find(key);
    if (found != declared.end() && found->second.owner != owner)
      problems.push_back({key, "is declared already by " + found->second.owner});
  }
  if (!problems.empty()) {
    throw validation_error("attribute schema of " + owner + " for " + entity_type, problems);
  }
  for (const auto& [key, rule] : schema.items()) {
    std::optional<std::regex> pattern;
    if (rule.contains("pattern")) pattern.emplace(rule["pattern"].get<std::string>(), std::regex::ECMAScript);
    declared[key] = {owner, rule, std::move(pattern)};
  }
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
    if (auto why = violation(declared.rule, declared.pattern, value); !why.empty()) out.push_back({"attributes." + key, why});
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

std::optional<std::string> AttributeSchemas::type_of(const std::string& entity_type, const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto found = by_entity_.find(entity_type);
  if (found == by_entity_.end()) return std::nullopt;
  auto rule = found->second.find(key);
  if (rule == found->second.end()) return std::nullopt;
  return rule->second.rule["type"].get<std::string>();
}

}  // namespace nucleo::services
