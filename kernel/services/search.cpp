#include "kernel/services/search.hpp"

#include <algorithm>
#include <regex>

#include "kernel/domain/error.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/consent_service.hpp"

namespace nucleo::services {
namespace {

constexpr std::size_t max_groups = 10, max_filters = 20, max_in_values = 100, max_contains_length = 200;
const std::vector<std::string> operators{"eq",       "neq", "lt", "lte", "gt", "gte", "in", "contains",
                                         "starts_with", "exists"};

using Errors = std::vector<FieldError>;

bool is_scalar_type(FieldType t) {
  return t != FieldType::object && t != FieldType::array && t != FieldType::email_list && t != FieldType::phone_list;
}

// The type of a searchable field, or nothing when the entity has no such field.
std::optional<FieldType> field_type(const EntitySpec& spec, const std::string& field) {
  static const std::regex attribute_key("^[A-Za-z0-9_.-]{1,100}$");
  if (field == "id" || field == "tenant_id") return FieldType::text;
  if (field == "version") return FieldType::integer;
  if (field == "created_at" || field == "updated_at") return FieldType::timestamp;
  if (field.rfind("attributes.", 0) == 0)
    return spec.has_attributes && std::regex_match(field.substr(11), attribute_key) ? std::optional(FieldType::text)
                                                                                    : std::nullopt;
  // A contact's consent.<purpose>: "granted" or "revoked", as the consent ledger says.
  if (field.rfind("consent.", 0) == 0)
    return spec.type == "contact" && is_purpose_key(field.substr(8)) ? std::optional(FieldType::text) : std::nullopt;
  const FieldSpec* f = spec.field(field);
  if (f == nullptr || f->hidden) return std::nullopt;
  return f->type;
}

// A value the column can be compared with: the field's own JSON type.
bool value_fits(FieldType type, const Json& v) {
  switch (type) {
    case FieldType::integer:
      return v.is_number_integer();
    case FieldType::boolean:
      return v.is_boolean();
    case FieldType::timestamp:
      return v.is_string() && parse_rfc3339(v.get<std::string>()).has_value();
    default:
      return v.is_string();
  }
}

void check_filter(const EntitySpec& spec, const Json& f, const std::string& where, store::SearchFilter& out,
                  Errors& errors, const std::string& sep = ".") {
  if (!f.is_object()) return errors.push_back({where, "must be {\"field\", \"op\", \"value\"}"});
  for (const auto& [key, _] : f.items())
    if (key != "field" && key != "op" && key != "value")
      errors.push_back({where + sep + key, "is not part of a filter"});
  out.field = f.value("field", Json()).is_string() ? f["field"].get<std::string>() : "";
  out.op = f.value("op", Json()).is_string() ? f["op"].get<std::string>() : "";
  out.value = f.value("value", Json());
  auto type = field_type(spec, out.field);
  if (!type)
    return errors.push_back({where + sep + "field", "'" + out.field + "' is not a searchable field of " + spec.type});
  if (std::find(operators.begin(), operators.end(), out.op) == operators.end())
    return errors.push_back(
        {where + sep + "op", "must be one of eq, neq, lt, lte, gt, gte, in, contains, starts_with, exists"});
  const std::string at = where + sep + "value";
  // No stored text holds a NUL, and SQLite would read the statement's text short at one.
  auto has_nul = [](const Json& v) { return v.is_string() && v.get<std::string>().find('\0') != std::string::npos; };
  if (has_nul(out.value) || (out.value.is_array() && std::any_of(out.value.begin(), out.value.end(), has_nul)))
    return errors.push_back({at, "must not contain NUL characters"});
  if (out.op == "exists") {
    if (!out.value.is_boolean()) errors.push_back({at, "must be true or false"});
  } else if (out.op == "contains" || out.op == "starts_with") {
    if (!out.value.is_string() || out.value.get<std::string>().empty() ||
        out.value.get<std::string>().size() > max_contains_length)
      errors.push_back({at, "must be a string of 1 to 200 characters"});
  } else if (out.field.rfind("consent.", 0) == 0) {
    auto state = [](const Json& v) { return v == "granted" || v == "revoked"; };
    bool fits = out.op == "in" ? out.value.is_array() && !out.value.empty() && out.value.size() <= 2 &&
                                     std::all_of(out.value.begin(), out.value.end(), state)
                               : (out.op == "eq" || out.op == "neq") && state(out.value);
    if (!fits) errors.push_back({at, "a consent is compared with eq, neq or in and \"granted\" or \"revoked\""});
  } else if (out.field.rfind("attributes.", 0) == 0) {
    // Attributes hold what plugins declare: compared as text with a string, as a number
    // with a number (an "in" list is all strings or all numbers).
    auto comparable = [](const Json& v) { return v.is_string() || v.is_number(); };
    if (out.op == "in") {
      bool same = out.value.is_array() && !out.value.empty() && out.value.size() <= max_in_values;
      for (const auto& item : out.value) same = same && comparable(item) && item.is_number() == out.value[0].is_number();
      if (!same) errors.push_back({at, "must be an array of 1 to 100 strings, or of numbers"});
    } else if (!comparable(out.value)) {
      errors.push_back({at, "must be a string or a number to compare " + out.field + " with"});
    }
  } else if (out.op == "in") {
    if (!out.value.is_array() || out.value.empty() || out.value.size() > max_in_values)
      return errors.push_back({at, "must be an array of 1 to 100 values"});
    for (const auto& item : out.value)
      if (!value_fits(*type, item)) return errors.push_back({at, "holds a value of the wrong type for " + out.field});
  } else if (!is_scalar_type(*type) || !value_fits(*type, out.value)) {
    errors.push_back({at, "is not a value " + out.field + " can be compared with"});
  }
}

void parse_sort(const EntitySpec& spec, const Json& sort, store::SearchQuery& q, Errors& errors) {
  if (!sort.is_array() || sort.size() > 1)
    return errors.push_back({"sort", "must be an array with at most one {\"field\", \"direction\"}"});
  if (sort.empty()) return;
  const Json& s = sort[0];
  auto sortable = sortable_fields(spec);
  if (!s.is_object() || !s.value("field", Json()).is_string() ||
      std::find(sortable.begin(), sortable.end(), s["field"].get<std::string>()) == sortable.end()) {
    std::string list;
    for (const auto& f : sortable) list += (list.empty() ? "" : ", ") + f;
    return errors.push_back({"sort[0].field", "must be one of " + list});
  }
  q.sort_field = s["field"];
  std::string direction = s.value("direction", "asc");
  if (direction != "asc" && direction != "desc") errors.push_back({"sort[0].direction", "must be asc or desc"});
  q.descending = direction == "desc";
}

}  // namespace

std::vector<FieldError> filter_problems(const EntitySpec& spec, const Json& filter, const std::string& at,
                                        const std::string& separator, store::SearchFilter& out) {
  Errors errors;
  check_filter(spec, filter, at, out, errors, separator);
  return errors;
}

std::vector<std::string> sortable_fields(const EntitySpec& spec) {
  std::vector<std::string> out{"id", "created_at", "updated_at"};
  for (const auto& f : spec.fields)
    if (!f.hidden && is_scalar_type(f.type) && (f.required || !f.default_value.is_null())) out.push_back(f.name);
  return out;
}

store::SearchQuery parse_search(const EntitySpec& spec, const Json& body, std::size_t max_limit) {
  if (!body.is_object())
    throw Error(ErrorCode::validation, "the search body must be a JSON object", {{"", "must be an object"}});
  Errors errors;
  store::SearchQuery q;
  for (const auto& [key, value] : body.items()) {
    if (key == "filter_groups") {
      if (!value.is_array() || value.size() > max_groups) {
        errors.push_back({key, "must be an array of at most 10 groups"});
        continue;
      }
      for (std::size_t g = 0; g < value.size(); ++g) {
        std::string where = "filter_groups[" + std::to_string(g) + "]";
        const Json& filters = value[g].is_object() ? value[g].value("filters", Json()) : Json();
        if (!filters.is_array() || filters.size() > max_filters) {
          errors.push_back({where + ".filters", "must be an array of at most 20 filters"});
          continue;
        }
        std::vector<store::SearchFilter> group(filters.size());
        for (std::size_t i = 0; i < filters.size(); ++i)
          check_filter(spec, filters[i], where + ".filters[" + std::to_string(i) + "]", group[i], errors);
        q.groups.push_back(std::move(group));
      }
    } else if (key == "sort") {
      parse_sort(spec, value, q, errors);
    } else if (key == "limit") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > static_cast<std::int64_t>(max_limit))
        errors.push_back({key, "must be an integer from 1 to " + std::to_string(max_limit)});
      else
        q.limit = value.get<std::size_t>();
    } else if (key != "cursor") {
      errors.push_back({key, "is not part of a search"});
    }
  }
  if (!errors.empty()) {
    throw validation_error("invalid search", std::move(errors));
  }
  return q;
}

}  // namespace nucleo::services
