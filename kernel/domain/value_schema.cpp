#include "kernel/domain/value_schema.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <regex>

#include "kernel/domain/error.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/domain/time.hpp"

namespace nucleo {
namespace {

const std::set<std::string> types{"string", "integer", "number", "boolean", "object", "array"};

// The draft-7 keywords a declared value may use. Combinators (oneOf, anyOf, allOf, not,
// if/then/else) and references are left out: their failures cannot be named field by
// field, and nothing declared so far needs them.
const std::set<std::string> keywords{
    "type",      "enum",      "const",    "pattern",     "minimum",   "maximum",    "exclusiveMinimum",
    "exclusiveMaximum",       "multipleOf", "minLength", "maxLength", "format",     "items",
    "minItems",  "maxItems",  "uniqueItems", "properties", "required", "additionalProperties",
    "minProperties",          "maxProperties", "description", "title", "default",  "examples"};

const std::set<std::string> numeric_keywords{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"};
const std::set<std::string> count_keywords{"minLength", "maxLength", "minItems",     "maxItems",
                                           "minProperties", "maxProperties"};

std::string type_of(const Json& rule) {
  return rule.is_object() && rule.value("type", Json()).is_string() ? rule["type"].get<std::string>() : "";
}

void rule_problems(const Json& rule, const std::string& at, const std::set<std::string>& extensions,
                   std::vector<std::string>& out) {
  auto say = [&](const std::string& where, const std::string& what) {
    out.push_back((where.empty() ? "" : where + " ") + what);
  };
  if (!rule.is_object()) return say(at, "must be a schema object: {\"type\", …}");
  std::string type = type_of(rule);
  if (!types.count(type)) say(at, "must have a type: string, integer, number, boolean, object or array");
  for (const auto& [name, value] : rule.items()) {
    std::string where = at.empty() ? name : at + "." + name;
    if (!keywords.count(name) && !extensions.count(name)) {
      say(where, "is not a supported schema keyword");
    } else if (numeric_keywords.count(name)) {
      if (!value.is_number() || (type != "integer" && type != "number"))
        say(where, "must be a number, on an integer or number value");
    } else if (count_keywords.count(name)) {
      if (!value.is_number_unsigned()) say(where, "must be a non-negative integer");
    } else if (name == "enum") {
      if (!value.is_array() || value.empty()) say(where, "must be a non-empty array");
    } else if (name == "pattern") {
      bool compiles = value.is_string() && type == "string";
      if (compiles) {
        try {
          std::regex(value.get<std::string>(), std::regex::ECMAScript);
        } catch (const std::regex_error&) {
          compiles = false;
        }
      }
      if (!compiles) say(where, "must be a regular expression (ECMAScript), on a string value");
    } else if (name == "format") {
      const auto& known = ValueSchema::formats();
      if (!value.is_string() || type != "string" || std::find(known.begin(), known.end(), value) == known.end())
        say(where, "must be date, date-time, email, phone, cpf or cnpj, on a string value");
    } else if (name == "properties") {
      if (!value.is_object()) say(where, "must be an object of schemas");
      else
        for (const auto& [property, sub] : value.items()) rule_problems(sub, where + "." + property, {}, out);
    } else if (name == "items" || (name == "additionalProperties" && value.is_object())) {
      rule_problems(value, where, {}, out);
    } else if (name == "required" && !extensions.count(name)) {
      if (!value.is_array()) say(where, "must be an array of property names");
    }
  }
}

// The rule as valijson sees it: without the declarer's own keywords and without
// `format` anywhere — formats are Nucleo's to check (valijson 1.0 checks date with a
// date-time message and lets every other format pass).
Json for_valijson(const Json& rule, const std::set<std::string>& extensions) {
  if (!rule.is_object()) return rule;
  Json out = Json::object();
  for (const auto& [name, value] : rule.items()) {
    if (name == "format" || extensions.count(name)) continue;
    if (name == "properties" && value.is_object()) {
      Json properties = Json::object();
      for (const auto& [property, sub] : value.items()) properties[property] = for_valijson(sub, {});
      out[name] = properties;
    } else if (name == "items" || name == "additionalProperties") {
      out[name] = for_valijson(value, {});
    } else {
      out[name] = value;
    }
  }
  return out;
}

// GS1's mod-10 check digit (GTIN-8/12/13/14, GLN): weights 3 and 1 from the right, the
// last digit the one that makes the sum a multiple of 10.
bool gs1_check_digit_holds(const std::string& digits) {
  int sum = 0;
  for (std::size_t i = 0; i + 1 < digits.size(); ++i) {
    int weight = (digits.size() - 1 - i) % 2 == 1 ? 3 : 1;
    sum += (digits[i] - '0') * weight;
  }
  return (10 - sum % 10) % 10 == digits.back() - '0';
}

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool has_format(const std::string& format, const std::string& value) {
  if (format == "date") return is_calendar_date(value);
  if (format == "gtin")
    return all_digits(value) && (value.size() == 8 || value.size() == 12 || value.size() == 13 || value.size() == 14) &&
           gs1_check_digit_holds(value);
  if (format == "gln") return all_digits(value) && value.size() == 13 && gs1_check_digit_holds(value);
  if (format == "date-time") return parse_rfc3339(value).has_value();
  if (format == "email") return normalise_email(value).has_value();
  // A phone must be international (+55 11 …): there is no region to assume it in.
  if (format == "phone") return !value.empty() && value[0] == '+' && normalise_phone(value, "ZZ").has_value();
  auto tax = normalise_tax_id(value, "BR");
  if (format == "cnpj") return tax && tax->kind == TaxIdKind::cnpj;
  if (format == "cpf") return tax && tax->kind == TaxIdKind::cpf;
  return false;
}

void check_formats(const Json& rule, const Json& value, const std::string& path, std::vector<ValueProblem>& out) {
  if (!rule.is_object()) return;
  if (rule.contains("format") && value.is_string() && !has_format(rule["format"], value.get<std::string>()))
    out.push_back({path, "must be a valid " + rule["format"].get<std::string>() +
                             (rule["format"] == "phone"  ? " in international form (+55 11 …)"
                              : rule["format"] == "gtin" ? " (8, 12, 13 or 14 digits, GS1 check digit)"
                              : rule["format"] == "gln"  ? " (13 digits, GS1 check digit)"
                                                         : "")});
  if (value.is_object() && rule.value("properties", Json()).is_object())
    for (const auto& [property, sub] : rule["properties"].items())
      if (value.contains(property)) check_formats(sub, value[property], path + "." + property, out);
  if (value.is_array() && rule.value("items", Json()).is_object())
    for (std::size_t i = 0; i < value.size(); ++i)
      check_formats(rule["items"], value[i], path + "[" + std::to_string(i) + "]", out);
}

std::string with_article(const std::string& type) {
  return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") + type;
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

// The text between the last pair of single quotes ('name').
std::string quoted(const std::string& text) {
  auto end = text.rfind('\'');
  auto begin = end == std::string::npos || end == 0 ? std::string::npos : text.rfind('\'', end - 1);
  return begin == std::string::npos ? "" : text.substr(begin + 1, end - begin - 1);
}

// valijson names a place as {"<root>", "[city]", "[2]"}: as the API writes it, and
// the declared rule that applies there.
std::pair<std::string, const Json*> place(const std::vector<std::string>& context, const Json& rule) {
  std::string path;
  const Json* at = &rule;
  for (std::size_t i = 1; i < context.size(); ++i) {
    std::string step = context[i];
    if (step.size() >= 2 && step.front() == '[' && step.back() == ']') step = step.substr(1, step.size() - 2);
    bool index = !step.empty() && step.find_first_not_of("0123456789") == std::string::npos;
    if (index && at->value("items", Json()).is_object()) {
      path += "[" + step + "]";
      at = &(*at)["items"];
    } else {
      path += "." + step;
      if (at->value("properties", Json()).is_object() && (*at)["properties"].contains(step))
        at = &(*at)["properties"][step];
      else if (at->value("additionalProperties", Json()).is_object())
        at = &(*at)["additionalProperties"];
    }
  }
  return {path, at};
}

// One valijson error in the API's words; nothing for the summary a parent adds above
// a nested failure (the nested one says it all).
std::optional<ValueProblem> problem_of(const std::string& description, const std::vector<std::string>& context,
                                       const Json& rule) {
  auto [path, at] = place(context, rule);
  const Json& r = *at;
  auto bound = [&](const char* name) { return r.value(name, Json()).dump(); };
  const std::string& d = description;
  if (starts_with(d, "Failed to validate against schema associated with") || starts_with(d, "Failed to validate item #") ||
      starts_with(d, "Cannot validate item #") || starts_with(d, "Failed to validate against additional properties"))
    return std::nullopt;
  if (starts_with(d, "Value type not permitted")) return ValueProblem{path, "must be " + with_article(type_of(r))};
  if (starts_with(d, "Expected number greater than or equal to")) return ValueProblem{path, "must be at least " + bound("minimum")};
  if (starts_with(d, "Expected number greater than"))
    return ValueProblem{path, "must be greater than " + bound(r.contains("exclusiveMinimum") ? "exclusiveMinimum" : "minimum")};
  if (starts_with(d, "Expected number less than or equal to")) return ValueProblem{path, "must be at most " + bound("maximum")};
  if (starts_with(d, "Expected number less than"))
    return ValueProblem{path, "must be less than " + bound(r.contains("exclusiveMaximum") ? "exclusiveMaximum" : "maximum")};
  if (starts_with(d, "Failed to match against any enum values")) return ValueProblem{path, "must be one of " + bound("enum")};
  if (starts_with(d, "Failed to match regex")) return ValueProblem{path, "must match " + r.value("pattern", "")};
  if (starts_with(d, "Failed to match expected value set by 'const'")) return ValueProblem{path, "must be " + bound("const")};
  if (starts_with(d, "String should be no fewer than"))
    return ValueProblem{path, "must be at least " + bound("minLength") + " characters long"};
  if (starts_with(d, "String should be no more than"))
    return ValueProblem{path, "must be at most " + bound("maxLength") + " characters long"};
  if (starts_with(d, "Array should contain no fewer than")) return ValueProblem{path, "must hold at least " + bound("minItems") + " items"};
  if (starts_with(d, "Array should contain no more than")) return ValueProblem{path, "must hold at most " + bound("maxItems") + " items"};
  if (starts_with(d, "Missing required property")) return ValueProblem{path + "." + quoted(d), "is required"};
  if (starts_with(d, "Object contains a property that could not be validated"))
    return ValueProblem{path + "." + quoted(d), "is not allowed here"};
  if (starts_with(d, "Value should be a multiple of")) return ValueProblem{path, "must be a multiple of " + bound("multipleOf")};
  return ValueProblem{path, d};
}

}  // namespace

struct ValueSchema::Compiled {
  valijson::Schema schema;
  mutable std::mutex mutex;  // the validator caches compiled patterns
  mutable valijson::Validator validator;
};

const std::vector<std::string>& ValueSchema::formats() {
  static const std::vector<std::string> all{"date", "date-time", "email", "phone", "cpf", "cnpj", "gtin", "gln"};
  return all;
}

std::vector<std::string> ValueSchema::problems(const Json& rule, const std::set<std::string>& extensions) {
  std::vector<std::string> out;
  rule_problems(rule, "", extensions, out);
  if (!out.empty()) return out;
  try {
    valijson::Schema schema;
    Json shown = for_valijson(rule, extensions);
    valijson::adapters::NlohmannJsonAdapter adapter(shown);
    valijson::SchemaParser(valijson::SchemaParser::kDraft7).populateSchema(adapter, schema);
  } catch (const std::exception& e) {
    out.push_back(std::string("is not a valid JSON Schema (draft 7): ") + e.what());
  }
  return out;
}

ValueSchema::ValueSchema(const Json& rule, const std::set<std::string>& extensions)
    : rule_(rule), compiled_(std::make_unique<Compiled>()) {
  if (auto found = problems(rule, extensions); !found.empty()) {
    std::vector<FieldError> fields;
    for (auto& p : found) fields.push_back({"", std::move(p)});
    throw validation_error("invalid schema", std::move(fields));
  }
  Json shown = for_valijson(rule, extensions);
  valijson::adapters::NlohmannJsonAdapter adapter(shown);
  valijson::SchemaParser(valijson::SchemaParser::kDraft7).populateSchema(adapter, compiled_->schema);
}

ValueSchema::~ValueSchema() = default;
ValueSchema::ValueSchema(ValueSchema&&) noexcept = default;
ValueSchema& ValueSchema::operator=(ValueSchema&&) noexcept = default;

std::vector<ValueProblem> ValueSchema::check(const Json& value) const {
  std::vector<ValueProblem> out;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  bool valid;
  {
    std::lock_guard lock(compiled_->mutex);
    valid = compiled_->validator.validate(compiled_->schema, target, &results);
  }
  if (!valid) {
    valijson::ValidationResults::Error e;
    while (results.popError(e))
      if (auto p = problem_of(e.description, e.context, rule_)) out.push_back(std::move(*p));
  }
  check_formats(rule_, value, "", out);
  return out;
}

void ValueSchema::require(const Json& value, const std::string& root, const std::string& what) const {
  std::vector<FieldError> errors;
  std::string detail;
  for (const auto& problem : check(value)) {
    std::string field = problem.path.empty() ? root : problem.path.substr(problem.path[0] == '.' ? 1 : 0);
    errors.push_back({field, problem.message});
    detail += (detail.empty() ? "" : "; ") + field + " " + problem.message;
  }
  if (!errors.empty()) throw Error(ErrorCode::validation, what + ": " + detail, std::move(errors));
}

}  // namespace nucleo
