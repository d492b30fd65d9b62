#pragma once

// plugin.json, read before any plugin code is loaded (docs/architecture.md §6, issue #8):
//
//   {"id": "com.acme.whatsapp", "version": "1.4.0", "kind": "channel",
//    "library": "libacme_whatsapp.so", "kernel": ">=0.1.0 <1.0.0",
//    "requires": [{"id": "org.nucleo.crm-core", "version": ">=1.0.0"}],
//    "config_schema": {"api_base": {"type": "string", "required": true},
//                      "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 3}},
//    "collections": {"visits": {"indexes": {"day": "string", "minutes": "integer"}}},
//    "data_classes": ["pii"], "status": "stable"}

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/services/fact_service.hpp"
#include "kernel/services/plugin_personal_data.hpp"

namespace nucleo::plugins {

// A semantic version's numbers (pre-release and build suffixes are not accepted).
struct Version {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const Version&) const = default;
  std::string text() const;
};
std::optional<Version> parse_version(std::string_view text);

// Space-separated comparators that must all hold: ">=1.2.0 <2.0.0", "=1.0.0", "*".
class VersionRange {
 public:
  static std::optional<VersionRange> parse(std::string_view text);
  bool contains(const Version& v) const;
  const std::string& text() const { return text_; }

 private:
  struct Comparator {
    std::string op;  // >= > <= < =
    Version version;
  };
  std::vector<Comparator> all_;
  std::string text_;
};

struct Requirement {
  std::string id;
  VersionRange versions;
};

// A collection of the plugin's record store and the document fields it may be
// queried by ("integer" or "string": ranges compare numbers or text).
// "timeline": {"account_field", "time_field"} puts its documents in the timeline of the
// account they name (indexed as string), at the time they hold (indexed as integer, µs).
//
// "schema": the JSON Schema every document is held to, whoever writes it.
// "resource": {"read": [roles], "write": [roles], "id_prefix": "ctr"} mounts the
// collection as an API resource with the kernel's protocol (docs/plugin-authoring.md,
// "Plugin resources"): list, create, read, patch, delete under /v1/x/<id>/<collection>.
struct Resource {
  std::vector<std::string> read, write;  // roles
  std::string id_prefix = "rec";         // new ids: <prefix>_<ulid>
  // (ABI 1.7) Roles that may read one record beyond `read` only by breaking the glass:
  // with a reason, audited as plugin_record.break_glass_read.
  std::vector<std::string> break_glass;
};
struct Collection {
  std::map<std::string, std::string> indexes;  // field → integer | string | date
  std::string timeline_account_field, timeline_time_field;  // empty: not in the timeline
  Json schema;                                               // null: any JSON object
  std::optional<Resource> resource;
  // "personal": {"subject_field", "fields", "on_erasure"} — the documents are the personal
  // data of the contact they name: erasing her deletes or redacts them, and the
  // data-subject read lists them (docs/plugin-authoring.md, "Personal data").
  std::optional<services::PersonalData> personal;
  // (ABI 1.7) "sensitive": "phi" | "pii" | "financial" — showing a document through the
  // kernel's routes (its resource, the timeline) is recorded as plugin_record.sensitive_read.
  std::string sensitive;
};

// What a plugin says about one of its routes (manifest "routes", keyed "POST /leads"):
// the OpenAPI document publishes it, and the kernel holds requests to it before the
// plugin is called — unknown query parameters 400, a body against `request` 422.
struct RouteDescription {
  std::string summary;
  std::vector<std::string> query;  // the query parameters it reads
  Json request;                    // the JSON body's schema; null: it takes no body
  int status = 200;                // its success status
  Json response;                   // the success body's schema; null: any JSON
  // "raw_body": {"types": ["text/csv"], "max_bytes": n} — a bearer route that takes a
  // body other than JSON (CSV, XML), passed to the plugin as bytes (body_base64).
  std::vector<std::string> raw_types;
  std::size_t raw_max_bytes = 0;
  // "response_type": "text/csv" — the success answers bytes of that type (the SDK's
  // Response::raw), not JSON; "response" is then ignored.
  std::string response_type;
};

struct Manifest {
  std::string id;       // reverse-DNS: com.acme.whatsapp
  Version version;
  std::string kind;     // channel | vertical | integration
  std::string library;  // the shared library, relative to plugin.json
  VersionRange kernel;  // kernel versions it runs on
  std::vector<Requirement> requires_plugins;
  Json config_schema = Json::object();  // {key: {"type", "required", "enum", "minimum", "maximum", "default"}}
  // Settings a tenant's admin sets for the plugin (PUT /v1/plugins/{id}/settings), keyed
  // like config_schema; "secret": true ones are sealed and reach only the plugin.
  Json tenant_settings = Json::object();
  std::map<std::string, Collection> collections;  // the record store's, by name
  std::vector<std::string> data_classes;  // pii | phi | financial
  std::string status;                     // alpha | stable
  std::map<std::string, RouteDescription> routes;  // by "METHOD /path"
  services::FactSets facts;  // (ABI 1.8) bulk measurements the kernel aggregates, by set
  // (ABI 1.9) "consent_purposes": [{"key", "description"}] — purposes consent is recorded
  // for that the plugin brings (a channel's marketing messages), known to every tenant.
  std::map<std::string, std::string> consent_purposes;  // key → description
};

// Parses and checks a manifest's text. Throws Error(validation) listing every problem
// by field ("id: must be reverse-DNS like com.example.plugin").
Manifest parse_manifest(std::string_view text);

// Reads `path` — a plugin.json, or the folder holding one — and parses it. Throws
// Error(validation) naming the file when it cannot be read or is not a valid manifest.
// `folder` receives the folder the manifest is in (its library sits beside it).
Manifest read_manifest(const std::string& path, std::string* folder = nullptr);

// The manifest as JSON, for `nucleo plugins inspect --json`.
Json to_json(const Manifest& manifest);

// Checks a loaded plugin's configuration against its manifest's schema and returns it
// with defaults applied. Unknown keys are refused (a typo must not pass silently).
// Throws Error(validation) naming each offending key.
Json checked_config(const Manifest& manifest, const Json& config);

}  // namespace nucleo::plugins
