#include "kernel/plugins/manifest.hpp"

#include "kernel/services/consent_service.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kernel/domain/error.hpp"
#include "kernel/domain/value_schema.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/sensitive_data.hpp"

namespace nucleo::plugins {
namespace {

bool is_reverse_dns(const std::string& id) {
  static const std::regex pattern("^[a-z][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)+$");
  return id.size() <= 128 && std::regex_match(id, pattern);
}

std::optional<int> number(std::string_view s) {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// Collects the problems of one manifest so all of them are reported at once.
class Problems {
 public:
  void add(const std::string& field, const std::string& message) { list_.push_back({field, message}); }
  void throw_if_any(const std::string& what) const {
    if (list_.empty()) return;
    throw validation_error(what, list_);
  }

 private:
  std::vector<FieldError> list_;
};

std::string required_text(const Json& j, const char* field, Problems& problems) {
  if (!j.contains(field)) {
    problems.add(field, "is required");
    return "";
  }
  if (!j[field].is_string() || j[field].get<std::string>().empty()) {
    problems.add(field, "must be a non-empty string");
    return "";
  }
  return j[field];
}

bool is_snake_name(const std::string& s) {
  static const std::regex pattern("^[a-z][a-z0-9_]{0,63}$");
  return std::regex_match(s, pattern);
}

// "collections": {"<name>": {"indexes": {"<field>": "integer" | "string" | "date"}}}
// "timeline": {"account_field": <string index>, "time_field": <integer (µs) or date index>}.
void timeline_of(const Json& value, const std::string& where, Collection& c, Problems& problems) {
  auto indexed_as = [&](const char* key, std::initializer_list<const char*> types, const std::string& said) {
    Json name = value.is_object() ? value.value(key, Json()) : Json();
    auto it = name.is_string() ? c.indexes.find(name.get<std::string>()) : c.indexes.end();
    if (it == c.indexes.end() || std::none_of(types.begin(), types.end(), [&](const char* t) { return it->second == t; })) {
      problems.add(where + "." + key, "must name a field indexed as " + said);
      return std::string();
    }
    return it->first;
  };
  c.timeline_account_field = indexed_as("account_field", {"string"}, "string");
  c.timeline_time_field = indexed_as("time_field", {"integer", "date"}, "integer (µs) or date");
  if (value.is_object())
    for (const auto& [key, v] : value.items())
      if (key != "account_field" && key != "time_field")
        problems.add(where + "." + key, "is not a timeline field (account_field, time_field)");
}

// "personal": {"subject_field": <string index>, "fields": [names], "on_erasure": "delete" |
// "redact"}: whose personal data the documents are. Redaction removes `fields`, so none
// of them may be the subject field or one the schema requires.
services::PersonalData personal_of(const Json& value, const std::string& where, const Collection& c,
                                   Problems& problems) {
  services::PersonalData p;
  if (!value.is_object()) {
    problems.add(where, "must be an object: {\"subject_field\", \"fields\": [names], \"on_erasure\"}");
    return p;
  }
  Json subject = value.value("subject_field", Json());
  auto indexed = subject.is_string() ? c.indexes.find(subject.get<std::string>()) : c.indexes.end();
  if (indexed == c.indexes.end() || indexed->second != "string")
    problems.add(where + ".subject_field", "must name a field indexed as string (the contact's id)");
  else
    p.subject_field = subject;
  Json fields = value.value("fields", Json());
  if (!fields.is_array() || fields.empty() ||
      !std::all_of(fields.begin(), fields.end(), [](const Json& f) { return f.is_string() && is_snake_name(f.get<std::string>()); }))
    problems.add(where + ".fields", "must be a non-empty array of top-level field names");
  else
    p.fields = fields.get<std::vector<std::string>>();
  Json on_erasure = value.value("on_erasure", Json("delete"));
  if (on_erasure != "delete" && on_erasure != "redact")
    problems.add(where + ".on_erasure", "must be delete or redact");
  else
    p.on_erasure = on_erasure;
  if (p.on_erasure == "redact") {
    Json required = c.schema.is_object() ? c.schema.value("required", Json::array()) : Json::array();
    for (const auto& field : p.fields) {
      if (field == p.subject_field) problems.add(where + ".fields", "cannot redact the subject field " + field);
      if (std::find(required.begin(), required.end(), Json(field)) != required.end())
        problems.add(where + ".fields", field + " is required by the schema: a redacted document would not be valid");
    }
  }
  for (const auto& [key, v] : value.items())
    if (key != "subject_field" && key != "fields" && key != "on_erasure")
      problems.add(where + "." + key, "is not a personal field (subject_field, fields, on_erasure)");
  return p;
}

// "resource": {"read": [roles], "write": [roles], "id_prefix"}; a resource needs a schema
// (the API validates and documents documents by it).
Resource resource_of(const Json& value, const std::string& where, const Collection& c, Problems& problems) {
  Resource r;
  if (!value.is_object()) {
    problems.add(where, "must be an object: {\"read\": [roles], \"write\": [roles], \"id_prefix\"}");
    return r;
  }
  const auto& roles = services::every_role();
  auto roles_of = [&](const char* key, std::vector<std::string>& out) {
    Json list = value.value(key, Json());
    bool ok = list.is_array() && !list.empty();
    for (const auto& role : ok ? list : Json::array())
      ok = ok && role.is_string() && std::find(roles.begin(), roles.end(), role.get<std::string>()) != roles.end();
    if (!ok) problems.add(where + "." + key, "must be a non-empty array of roles (admin, manager, sales, …)");
    else out = list.get<std::vector<std::string>>();
  };
  roles_of("read", r.read);
  roles_of("write", r.write);
  if (value.contains("break_glass")) {
    roles_of("break_glass", r.break_glass);
    for (const auto& role : r.break_glass)
      if (std::find(r.read.begin(), r.read.end(), role) != r.read.end())
        problems.add(where + ".break_glass", role + " reads already: break_glass names roles that may not");
  }
  if (std::find(r.write.begin(), r.write.end(), "auditor") != r.write.end())
    problems.add(where + ".write", "auditors read; they do not write");
  if (value.contains("id_prefix")) {
    Json prefix = value["id_prefix"];
    if (!prefix.is_string() || !std::regex_match(prefix.get<std::string>(), std::regex("^[a-z]{2,8}$")))
      problems.add(where + ".id_prefix", "must be 2-8 lower-case letters");
    else r.id_prefix = prefix;
  }
  for (const auto& [key, v] : value.items())
    if (key != "read" && key != "write" && key != "id_prefix" && key != "break_glass")
      problems.add(where + "." + key, "is not a resource field (read, write, id_prefix, break_glass)");
  if (c.schema.is_null()) problems.add(where, "needs the collection's \"schema\"");
  return r;
}

// (ABI 1.8) "facts": {"<set>": {"dimensions": {"<name>": "string" | "date", …},
// "measures": ["<name>", …]}} — up to four text dimensions and one date, one to four
// integer measures (services/fact_service.hpp, ADR 0035).
services::FactSets fact_sets_of(const Json& j, Problems& problems) {
  services::FactSets out;
  if (!j.is_object() || j.size() > 20) {
    problems.add("facts", "must be an object of at most 20 fact sets");
    return out;
  }
  for (const auto& [name, spec] : j.items()) {
    std::string field = "facts." + name;
    if (!is_snake_name(name)) problems.add(field, "must be named with lower-case letters, digits and _");
    if (!spec.is_object()) {
      problems.add(field, "must be an object: {\"dimensions\": {\"name\": \"string\" | \"date\"}, \"measures\": [\"name\"]}");
      continue;
    }
    services::FactSetSpec set;
    std::set<std::string> names;
    const Json given = spec.value("dimensions", Json());
    if (!given.is_object() || given.empty()) problems.add(field + ".dimensions", "must name at least one dimension");
    const Json dimensions = given.is_object() ? given : Json::object();
    for (const auto& [dimension, type] : dimensions.items()) {
      if (!is_snake_name(dimension)) problems.add(field + ".dimensions." + dimension, "must be lower-case letters, digits and _");
      names.insert(dimension);
      if (type == "string") set.dimensions.push_back(dimension);
      else if (type == "date" && set.date_dimension.empty()) set.date_dimension = dimension;
      else problems.add(field + ".dimensions." + dimension, type == "date" ? "a fact set has one date dimension" : "must be string or date");
    }
    if (set.dimensions.size() > 4) problems.add(field + ".dimensions", "may hold at most four string dimensions");
    const Json measures = spec.value("measures", Json());
    if (!measures.is_array() || measures.empty() || measures.size() > 4)
      problems.add(field + ".measures", "must be an array of one to four measure names (integers)");
    for (const auto& m : measures.is_array() ? measures : Json::array()) {
      if (!m.is_string() || !is_snake_name(m.get<std::string>())) problems.add(field + ".measures", "must be lower-case names");
      else if (!names.insert(m.get<std::string>()).second) problems.add(field + ".measures", m.get<std::string>() + " is a dimension too");
      else set.measures.push_back(m);
    }
    if (names.count("set")) problems.add(field, "'set' is not a field name: an import row names its set with it");
    for (const auto& [key, v] : spec.items())
      if (key != "dimensions" && key != "measures") problems.add(field + "." + key, "is not a fact set field (dimensions, measures)");
    out[name] = set;
  }
  return out;
}

std::map<std::string, Collection> collections_of(const Json& j, Problems& problems) {
  std::map<std::string, Collection> out;
  if (!j.is_object()) {
    problems.add("collections", "must be an object of collections");
    return out;
  }
  for (const auto& [name, spec] : j.items()) {
    std::string field = "collections." + name;
    if (!is_snake_name(name)) problems.add(field, "must be named with lower-case letters, digits and _");
    if (!spec.is_object()) {
      problems.add(field, "must be an object: {\"indexes\": {\"field\": \"integer\" | \"string\"}}");
      continue;
    }
    Collection c;
    for (const auto& [key, value] : spec.items()) {
      if (key == "timeline" || key == "resource" || key == "personal") continue;  // once the indexes are known
      if (key == "sensitive") {
        if (!value.is_string() || !services::SensitiveData::is_data_class(value.get<std::string>()))
          problems.add(field + ".sensitive", "must be phi, pii or financial");
        else c.sensitive = value;
        continue;
      }
      if (key == "schema") {
        for (const auto& problem : ValueSchema::problems(value, {})) problems.add(field + ".schema", problem);
        if (!value.is_object() || value.value("type", Json()) != "object")
          problems.add(field + ".schema", "must be a JSON Schema of \"type\": \"object\"");
        for (const char* reserved : {"id", "version", "created_at", "updated_at"})
          if (value.is_object() && value.value("properties", Json::object()).contains(reserved))
            problems.add(field + ".schema.properties." + reserved, "is the kernel's: a document may not hold it");
        c.schema = value;
        continue;
      }
      if (key != "indexes") {
        problems.add(field + "." + key, "is not a collection field (indexes, schema, timeline, resource, personal, sensitive)");
        continue;
      }
      if (!value.is_object() || value.size() > 10) {
        problems.add(field + ".indexes", "must be an object of at most 10 fields");
        continue;
      }
      for (const auto& [index, type] : value.items()) {
        if (!is_snake_name(index)) problems.add(field + ".indexes." + index, "must be a top-level field name");
        else if (type != "integer" && type != "string" && type != "date")
          problems.add(field + ".indexes." + index, "must be integer, string or date");
        else c.indexes[index] = type.get<std::string>();
      }
    }
    if (spec.contains("timeline")) timeline_of(spec["timeline"], field + ".timeline", c, problems);
    if (spec.contains("resource")) c.resource = resource_of(spec["resource"], field + ".resource", c, problems);
    if (spec.contains("personal")) c.personal = personal_of(spec["personal"], field + ".personal", c, problems);
    out[name] = c;
  }
  return out;
}

// "raw_body": {"types": ["text/csv", …], "max_bytes": n}: media types as type/subtype,
// lower-case; the limit can only lower the server's own (http.body_limit).
void raw_body_of(const Json& value, const std::string& where, RouteDescription& d, Problems& problems) {
  static const std::regex media_type("^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$");
  Json types = value.is_object() ? value.value("types", Json()) : Json();
  if (!types.is_array() || types.empty() ||
      !std::all_of(types.begin(), types.end(), [](const Json& t) { return t.is_string() && std::regex_match(t.get<std::string>(), media_type); }))
    problems.add(where + ".types", "must be a non-empty array of media types (text/csv)");
  else
    d.raw_types = types.get<std::vector<std::string>>();
  Json max = value.is_object() ? value.value("max_bytes", Json()) : Json();
  if (!max.is_number_integer() || max.get<std::int64_t>() < 1)
    problems.add(where + ".max_bytes", "must be a positive integer");
  else
    d.raw_max_bytes = max.get<std::size_t>();
  if (value.is_object())
    for (const auto& [key, v] : value.items())
      if (key != "types" && key != "max_bytes") problems.add(where + "." + key, "is not a raw_body field (types, max_bytes)");
}

// "routes": {"POST /leads": {"summary", "query": [names], "request": schema, "status",
// "response": schema}}; the schemas are JSON Schema (ValueSchema's keywords).
std::map<std::string, RouteDescription> routes_of(const Json& j, Problems& problems) {
  std::map<std::string, RouteDescription> out;
  if (!j.is_object()) {
    problems.add("routes", "must be an object of routes keyed \"METHOD /path\"");
    return out;
  }
  static const std::regex key_pattern("^(GET|POST|PUT|PATCH|DELETE) /[^ ]*$");
  for (const auto& [key, spec] : j.items()) {
    std::string field = "routes." + key;
    if (!std::regex_match(key, key_pattern)) problems.add(field, "must be keyed \"METHOD /path\" (GET /visits/{id})");
    if (!spec.is_object()) {
      problems.add(field, "must be an object: {summary, query, request, status, response}");
      continue;
    }
    RouteDescription d;
    for (const auto& [name, value] : spec.items()) {
      std::string where = field + "." + name;
      if (name == "summary" && value.is_string() && !value.get<std::string>().empty()) {
        d.summary = value;
      } else if (name == "query" && value.is_array() &&
                 std::all_of(value.begin(), value.end(), [](const Json& q) { return q.is_string(); })) {
        d.query = value.get<std::vector<std::string>>();
      } else if (name == "status" && value.is_number_integer() && value.get<int>() >= 200 && value.get<int>() < 300) {
        d.status = value;
      } else if (name == "response_type" && value.is_string() &&
                 std::regex_match(value.get<std::string>(), std::regex("^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$"))) {
        d.response_type = value;
      } else if (name == "raw_body") {
        raw_body_of(value, where, d, problems);
      } else if (name == "request" || name == "response") {
        for (const auto& problem : ValueSchema::problems(value, {})) problems.add(where, problem);
        (name == "request" ? d.request : d.response) = value;
      } else {
        problems.add(where, name == "summary" || name == "query" || name == "status" || name == "response_type"
                                ? std::string(name == "summary"         ? "must be a non-empty string"
                                              : name == "query"         ? "must be an array of parameter names"
                                              : name == "response_type" ? "must be a media type (text/csv)"
                                                                        : "must be a 2xx status")
                                : "is not a route field (summary, query, request, raw_body, status, response, "
                                  "response_type)");
      }
    }
    if (!d.raw_types.empty() && !d.request.is_null())
      problems.add(field, "takes a JSON \"request\" or a \"raw_body\", not both");
    out[key] = std::move(d);
  }
  return out;
}

// A setting's own keywords beside JSON Schema's: "required": true (no default: the
// deployment must set it) and "secret": true (never logged, shown as "***").
const std::set<std::string> setting_keywords{"required", "secret"};

// Each problem of a setting's rule (ValueSchema::problems), named by the keyword it is
// about when there is one: config_schema.<key>.<keyword> (or tenant_settings.…).
void check_schema(const Json& schema, Problems& problems, const std::string& field = "config_schema") {
  if (!schema.is_object()) return problems.add(field, "must be an object of settings");
  for (const auto& [key, rule] : schema.items())
    for (const auto& problem : ValueSchema::problems(rule, setting_keywords)) {
      auto space = problem.find(' ');
      std::string keyword = space == std::string::npos ? "" : problem.substr(0, space);
      bool names_keyword = !keyword.empty() && rule.is_object() && rule.contains(keyword.substr(0, keyword.find('.')));
      problems.add(field + "." + key + (names_keyword ? "." + keyword : ""),
                   names_keyword ? problem.substr(space + 1) : problem);
    }
}

}  // namespace

std::string Version::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<Version> parse_version(std::string_view text) {
  auto first = text.find('.');
  auto second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto major = number(text.substr(0, first)), minor = number(text.substr(first + 1, second - first - 1)),
       patch = number(text.substr(second + 1));
  if (!major || !minor || !patch) return std::nullopt;
  return Version{*major, *minor, *patch};
}

std::optional<VersionRange> VersionRange::parse(std::string_view text) {
  VersionRange range;
  range.text_ = std::string(text);
  std::istringstream in{std::string(text)};
  std::string item;
  int count = 0;
  while (in >> item) {
    ++count;
    if (item == "*") continue;
    std::size_t op_size = item.rfind(">=", 0) == 0 || item.rfind("<=", 0) == 0 ? 2
                          : item[0] == '>' || item[0] == '<' || item[0] == '=' ? 1
                                                                               : 0;
    auto version = parse_version(std::string_view(item).substr(op_size));
    if (!version) return std::nullopt;
    range.all_.push_back({op_size == 0 ? "=" : item.substr(0, op_size), *version});
  }
  if (count == 0) return std::nullopt;
  return range;
}

bool VersionRange::contains(const Version& v) const {
  for (const auto& c : all_) {
    bool ok = c.op == ">=" ? v >= c.version
              : c.op == ">" ? v > c.version
              : c.op == "<=" ? v <= c.version
              : c.op == "<" ? v < c.version
                            : v == c.version;
    if (!ok) return false;
  }
  return true;
}

// (ABI 1.9) "consent_purposes": [{"key": "marketing_whatsapp", "description": "…"}].
std::map<std::string, std::string> consent_purposes_of(const Json& j, Problems& problems) {
  std::map<std::string, std::string> out;
  if (!j.is_array() || j.size() > 20) {
    problems.add("consent_purposes", "must be an array of at most 20 {\"key\", \"description\"}");
    return out;
  }
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Json& p = j[i];
    std::string field = "consent_purposes[" + std::to_string(i) + "]";
    bool shaped = p.is_object() && p.size() == 2 && p.value("key", Json()).is_string() &&
                  p.value("description", Json()).is_string() && !p["description"].get<std::string>().empty() &&
                  p["description"].get<std::string>().size() <= 500;
    if (!shaped) problems.add(field, "must be {\"key\", \"description\": 1 to 500 characters}");
    else if (!services::is_purpose_key(p["key"])) problems.add(field + ".key", "must be lower-case letters, digits and _, starting with a letter");
    else if (!out.emplace(p["key"], p["description"]).second) problems.add(field + ".key", "is declared twice");
  }
  return out;
}

Manifest parse_manifest(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(ErrorCode::validation, "plugin.json is not a JSON object", {{"plugin.json", "is not a JSON object"}});
  Problems problems;
  Manifest m;
  m.id = required_text(j, "id", problems);
  if (!m.id.empty() && !is_reverse_dns(m.id)) problems.add("id", "must be reverse-DNS like com.example.plugin");
  std::string version = required_text(j, "version", problems);
  if (!version.empty()) {
    if (auto v = parse_version(version)) m.version = *v;
    else problems.add("version", "must be a semantic version like 1.2.3");
  }
  m.kind = required_text(j, "kind", problems);
  if (!m.kind.empty() && m.kind != "channel" && m.kind != "vertical" && m.kind != "integration" &&
      m.kind != "analytics")
    problems.add("kind", "must be channel, vertical, integration or analytics");
  m.library = required_text(j, "library", problems);
  if (m.library.find('/') != std::string::npos) problems.add("library", "must be a file name beside plugin.json");
  std::string kernel = required_text(j, "kernel", problems);
  if (!kernel.empty()) {
    if (auto r = VersionRange::parse(kernel)) m.kernel = *r;
    else problems.add("kernel", "must be a version range like \">=0.1.0 <1.0.0\"");
  }
  if (j.contains("requires")) {
    if (!j["requires"].is_array()) problems.add("requires", "must be an array of {id, version}");
    else
      for (std::size_t i = 0; i < j["requires"].size(); ++i) {
        const Json& r = j["requires"][i];
        std::string field = "requires[" + std::to_string(i) + "]";
        auto range = r.is_object() && r.value("version", Json()).is_string()
                         ? VersionRange::parse(r["version"].get<std::string>())
                         : std::nullopt;
        if (!r.is_object() || !r.value("id", Json()).is_string() || !is_reverse_dns(r["id"]) || !range)
          problems.add(field, "must be {\"id\": reverse-DNS, \"version\": a range}");
        else
          m.requires_plugins.push_back({r["id"], *range});
      }
  }
  if (j.contains("config_schema")) {
    check_schema(j["config_schema"], problems);
    m.config_schema = j["config_schema"];
  }
  if (j.contains("tenant_settings")) {
    check_schema(j["tenant_settings"], problems, "tenant_settings");
    m.tenant_settings = j["tenant_settings"];
  }
  if (j.contains("collections")) m.collections = collections_of(j["collections"], problems);
  if (j.contains("routes")) m.routes = routes_of(j["routes"], problems);
  if (j.contains("facts")) m.facts = fact_sets_of(j["facts"], problems);
  if (j.contains("consent_purposes")) m.consent_purposes = consent_purposes_of(j["consent_purposes"], problems);
  if (j.contains("data_classes")) {
    if (!j["data_classes"].is_array()) problems.add("data_classes", "must be an array");
    else
      for (const auto& c : j["data_classes"]) {
        if (c == "pii" || c == "phi" || c == "financial") m.data_classes.push_back(c);
        else problems.add("data_classes", "may hold only pii, phi and financial");
      }
  }
  m.status = j.value("status", Json("alpha")).is_string() ? j.value("status", "alpha") : "";
  if (m.status != "alpha" && m.status != "stable") problems.add("status", "must be alpha or stable");
  for (const auto& [key, value] : j.items()) {
    static const std::set<std::string> known{"id",     "version",       "kind",         "library", "kernel",
                                             "requires", "config_schema", "data_classes", "status",  "description",
                                             "collections", "routes", "tenant_settings", "facts",
                                             "consent_purposes"};
    if (!known.count(key)) problems.add(key, "is not a manifest field");
  }
  problems.throw_if_any("invalid plugin.json");
  return m;
}

namespace {

// Settings from a .properties file arrive as text: read them as the schema's type.
Json typed(const Json& rule, const Json& value) {
  if (!value.is_string()) return value;
  const std::string& text = value.get_ref<const std::string&>();
  const std::string type = rule["type"];
  if (type == "boolean" && (text == "true" || text == "false")) return text == "true";
  if (type == "integer" || type == "number" || type == "object" || type == "array") {
    Json parsed = Json::parse(text, nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  return value;
}

}  // namespace

Json checked_config(const Manifest& manifest, const Json& config) {
  Problems problems;
  Json out = Json::object();
  const Json given = config.is_object() ? config : Json::object();  // iterated below: must outlive the loop
  for (const auto& [key, value] : given.items()) {
    if (!manifest.config_schema.contains(key)) {
      problems.add(key, "is not a setting of " + manifest.id);
      continue;
    }
    out[key] = typed(manifest.config_schema[key], value);
    for (const auto& problem : ValueSchema(manifest.config_schema[key], setting_keywords).check(out[key]))
      problems.add(key + problem.path, problem.message);
  }
  for (const auto& [key, rule] : manifest.config_schema.items()) {
    if (out.contains(key)) continue;
    if (rule.contains("default")) out[key] = rule["default"];
    else if (rule.value("required", false)) problems.add(key, "is required");
  }
  problems.throw_if_any("invalid configuration of plugin " + manifest.id);
  return out;
}

Manifest read_manifest(const std::string& path, std::string* folder) {
  namespace fs = std::filesystem;
  fs::path file = fs::is_directory(path) ? fs::path(path) / "plugin.json" : fs::path(path);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::validation, "cannot read " + file.string(), {{"plugin.json", "cannot be read"}});
  std::stringstream text;
  text << in.rdbuf();
  if (folder) *folder = file.parent_path().string();
  try {
    return parse_manifest(text.str());
  } catch (const Error& e) {
    throw Error(ErrorCode::validation, file.string() + ": " + e.what(), e.fields());
  }
}

namespace {
Json collections_json(const Manifest& m) {
  Json out = Json::object();
  for (const auto& [name, c] : m.collections) {
    out[name] = {{"indexes", c.indexes}};
    if (!c.timeline_account_field.empty())
      out[name]["timeline"] = {{"account_field", c.timeline_account_field}, {"time_field", c.timeline_time_field}};
    if (!c.schema.is_null()) out[name]["schema"] = c.schema;
    if (c.resource)
      out[name]["resource"] = {{"read", c.resource->read}, {"write", c.resource->write}, {"id_prefix", c.resource->id_prefix}};
    if (c.personal) out[name]["personal"] = c.personal->to_json();
  }
  return out;
}
Json facts_json(const Manifest& m) {
  Json out = Json::object();
  for (const auto& [name, f] : m.facts) {
    Json dimensions = Json::object();
    for (const auto& d : f.dimensions) dimensions[d] = "string";
    if (!f.date_dimension.empty()) dimensions[f.date_dimension] = "date";
    out[name] = {{"dimensions", dimensions}, {"measures", f.measures}};
  }
  return out;
}
Json routes_json(const Manifest& m) {
  Json out = Json::object();
  for (const auto& [key, d] : m.routes)
  {
    out[key] = {{"summary", d.summary}, {"query", d.query}, {"request", d.request}, {"status", d.status},
                {"response", d.response}};
    if (!d.response_type.empty()) out[key]["response_type"] = d.response_type;
    if (!d.raw_types.empty()) out[key]["raw_body"] = {{"types", d.raw_types}, {"max_bytes", d.raw_max_bytes}};
  }
  return out;
}
}  // namespace

Json to_json(const Manifest& m) {
  Json requires_plugins = Json::array();
  for (const auto& r : m.requires_plugins) requires_plugins.push_back({{"id", r.id}, {"version", r.versions.text()}});
  return {{"id", m.id},
          {"version", m.version.text()},
          {"kind", m.kind},
          {"library", m.library},
          {"kernel", m.kernel.text()},
          {"requires", requires_plugins},
          {"config_schema", m.config_schema},
          {"tenant_settings", m.tenant_settings},
          {"collections", collections_json(m)},
          {"routes", routes_json(m)},
          {"facts", facts_json(m)},
          {"consent_purposes", [&] {
             Json purposes = Json::array();
             for (const auto& [key, description] : m.consent_purposes)
               purposes.push_back({{"key", key}, {"description", description}});
             return purposes;
           }()},
          {"data_classes", m.data_classes},
          {"status", m.status}};
}

}  // namespace nucleo::plugins
