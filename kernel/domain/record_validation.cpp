#include "kernel/domain/record_validation.hpp"

#include <algorithm>

#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/normalise.hpp"
#include "kernel/domain/time.hpp"

namespace nucleo {
namespace {

constexpr std::int64_t max_safe_integer = 9'007'199'254'740'991;  // 2^53 − 1: exact in every JSON reader
constexpr std::size_t max_list_items = 50;

using Errors = std::vector<FieldError>;

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// Each check returns the normalised value, or records why not and returns null.
Json check_text(const FieldSpec& f, const Json& v, Errors& errors) {
  if (!v.is_string()) return errors.push_back({f.name, "must be a string"}), Json();
  std::string t = trim(v.get<std::string>());
  if (t.size() > f.max_length)
    return errors.push_back({f.name, "must be at most " + std::to_string(f.max_length) + " characters"}), Json();
  if (t.empty() && f.required) return errors.push_back({f.name, "must not be empty"}), Json();
  return t.empty() ? Json() : Json(t);
}

Json check_list(const FieldSpec& f, const Json& v, Errors& errors, const NormalisationSettings& settings) {
  if (!v.is_array()) return errors.push_back({f.name, "must be an array"}), Json();
  if (v.size() > max_list_items)
    return errors.push_back({f.name, "must have at most " + std::to_string(max_list_items) + " items"}), Json();
  Json out = Json::array();
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string where = f.name + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) {
      errors.push_back({where, "must be a string"});
      continue;
    }
    auto value = f.type == FieldType::email_list ? normalise_email(v[i].get<std::string>())
                                                 : normalise_phone(v[i].get<std::string>(), settings.default_region);
    if (!value) {
      errors.push_back(
          {where, f.type == FieldType::email_list ? "is not a valid e-mail address" : "is not a valid phone number"});
      continue;
    }
    if (std::find(out.begin(), out.end(), *value) == out.end()) out.push_back(*value);
  }
  return out;
}

Json check_value(const FieldSpec& f, const Json& v, Errors& errors, const NormalisationSettings& settings) {
  switch (f.type) {
    case FieldType::text:
      return check_text(f, v, errors);
    case FieldType::enumeration:
      if (!v.is_string() || std::find(f.allowed.begin(), f.allowed.end(), v.get<std::string>()) == f.allowed.end()) {
        std::string list;
        for (const auto& a : f.allowed) list += (list.empty() ? "" : ", ") + a;
        return errors.push_back({f.name, "must be one of: " + list}), Json();
      }
      return v;
    case FieldType::integer:
      if (!v.is_number_integer() || v.get<std::int64_t>() > max_safe_integer ||
          v.get<std::int64_t>() < -max_safe_integer ||
          (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max_safe_integer)))
        return errors.push_back({f.name, "must be an integer within ±(2^53−1)"}), Json();
      return v;
    case FieldType::boolean:
      if (!v.is_boolean()) return errors.push_back({f.name, "must be true or false"}), Json();
      return v;
    case FieldType::timestamp: {
      auto t = v.is_string() ? parse_rfc3339(v.get<std::string>()) : std::nullopt;
      if (!t) return errors.push_back({f.name, "must be an RFC 3339 date-time, e.g. 2026-07-01T12:00:00Z"}), Json();
      return format_rfc3339(*t);  // canonical: UTC with Z
    }
    case FieldType::date:
      if (!v.is_string() || !is_calendar_date(v.get<std::string>()))
        return errors.push_back({f.name, "must be a date YYYY-MM-DD"}), Json();
      return v;
    case FieldType::reference: {
      std::string prefix = entity_spec(f.target).prefix;
      if (!v.is_string() || !is_valid_id(v.get<std::string>(), prefix))
        return errors.push_back({f.name, "must be a " + f.target + " id (" + prefix + "_…)"}), Json();
      return v;
    }
    case FieldType::email: {
      auto e = v.is_string() ? normalise_email(v.get<std::string>()) : std::nullopt;
      if (!e) return errors.push_back({f.name, "is not a valid e-mail address"}), Json();
      return *e;
    }
    case FieldType::phone: {
      auto p = v.is_string() ? normalise_phone(v.get<std::string>(), settings.default_region) : std::nullopt;
      if (!p) return errors.push_back({f.name, "is not a valid phone number"}), Json();
      return *p;
    }
    case FieldType::tax_id:
      if (!v.is_string()) return errors.push_back({f.name, "must be a string"}), Json();
      return v;  // checked with its country below, once both are known
    case FieldType::currency:
      if (!v.is_string() || !is_currency_code(v.get<std::string>()))
        return errors.push_back({f.name, "must be an ISO 4217 code such as BRL"}), Json();
      return v;
    case FieldType::country:
      if (!v.is_string() || !is_country_code(v.get<std::string>()))
        return errors.push_back({f.name, "must be an ISO 3166-1 alpha-2 code such as BR"}), Json();
      return v;
    case FieldType::email_list:
    case FieldType::phone_list:
      return check_list(f, v, errors, settings);
    case FieldType::object:
      if (!v.is_object()) return errors.push_back({f.name, "must be an object"}), Json();
      return v;
    case FieldType::array:
      if (!v.is_array()) return errors.push_back({f.name, "must be an array"}), Json();
      return v;
  }
  return Json();
}

// A tax id is read in its country (tax_id_country, "BR" by default): the CPF/CNPJ
// check digits apply to Brazil only. The kind found is stored as tax_id_kind.
void check_tax_id(Json& out, const Json& current, Errors& errors) {
  bool tax_id_changes = out.contains("tax_id");
  bool country_changes = out.contains("tax_id_country");
  if (!tax_id_changes && !country_changes) return;
  const Json& tax_id = tax_id_changes ? out["tax_id"] : current.value("tax_id", Json());
  Json country_value = country_changes ? out["tax_id_country"] : current.value("tax_id_country", Json("BR"));
  std::string country = country_value.is_string() ? country_value.get<std::string>() : "BR";
  if (tax_id.is_null()) {
    if (tax_id_changes) out["tax_id_kind"] = nullptr;
    return;
  }
  auto normalised = normalise_tax_id(tax_id.get<std::string>(), country);
  if (!normalised) {
    errors.push_back({"tax_id", country == "BR"
                                    ? "is not a valid CPF or CNPJ (check digits, length, repeated characters)"
                                    : "is not a valid tax id"});
    return;
  }
  out["tax_id"] = normalised->value;
  out["tax_id_kind"] = std::string(to_string(normalised->kind));
}

}  // namespace

Json validate_record_input(const EntitySpec& spec, const Json& input, WriteMode mode,
                           const NormalisationSettings& settings, const Json& current) {
  if (!input.is_object())
    throw Error(ErrorCode::validation, "the body must be a JSON object", {{"", "must be an object"}});
  Errors errors;
  Json out = Json::object();
  const auto& system = system_fields();
  for (const auto& [key, value] : input.items()) {
    if (std::find(system.begin(), system.end(), key) != system.end()) {
      errors.push_back({key, "is read-only"});
      continue;
    }
    // The HTTP layer refuses these in any body; a plugin's write reaches here directly.
    if (auto at = field_with_nul(value, key); !at.empty()) {
      errors.push_back({at, "must not contain NUL (\\u0000) characters"});
      continue;
    }
    if (key == "attributes" && spec.has_attributes) {
      if (!value.is_object())
        errors.push_back({key, "must be an object"});
      else
        out[key] = value;
      continue;
    }
    const FieldSpec* field = spec.field(key);
    if (field == nullptr) {
      errors.push_back({key, "is not a field of " + spec.type});
      continue;
    }
    if (field->derived) {
      errors.push_back({key, spec.type == "contact" && key == "consent"
                                 ? "is the consent ledger's state: record a grant or revocation with "
                                   "POST /v1/contacts/{id}/consents"
                                 : "is set by Nucleo and cannot be written"});
      continue;
    }
    if (value.is_null()) {
      // null unsets a field; one with a default (a currency, a list, a flag) goes back to
      // it — its column holds no NULL (issue #26: the fuzzer's nulls failed as 500s).
      if (field->required)
        errors.push_back({key, "is required"});
      else
        out[key] = field->default_value;
      continue;
    }
    Json checked = check_value(*field, value, errors, settings);
    if (!checked.is_null() || !field->required) out[key] = checked;
  }

  if (mode == WriteMode::create) {
    for (const auto& f : spec.fields) {
      if (out.contains(f.name)) continue;
      if (f.required && !input.contains(f.name)) errors.push_back({f.name, "is required"});
      out[f.name] = f.default_value;
    }
    if (spec.has_attributes && !out.contains("attributes")) out["attributes"] = Json::object();
  }

  if (spec.field("tax_id") != nullptr) check_tax_id(out, current, errors);

  if (!errors.empty()) {
    throw validation_error("invalid " + spec.type, std::move(errors));
  }
  return out;
}

}  // namespace nucleo
