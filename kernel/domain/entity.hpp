#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "kernel/domain/error.hpp"

namespace nucleo {

using Json = nlohmann::json;

// How a field is checked, normalised and stored. JSON shows every type as below;
// the database column type follows from it (store/record_table.cpp).
enum class FieldType {
  text,         // string, trimmed; max_length applies
  enumeration,  // string from `allowed`
  integer,      // JSON integer within ±(2^53−1)
  boolean,      // JSON true/false (stored 0/1)
  timestamp,    // RFC 3339 string in JSON, int64 µs UTC in the database
  date,         // "YYYY-MM-DD"
  reference,    // id of another entity of this tenant (`target` names its type)
  email,        // normalised e-mail
  phone,        // normalised E.164
  tax_id,       // CPF/CNPJ/other, normalised; country from `tax_id_country`
  currency,     // ISO 4217 code
  country,      // ISO 3166-1 alpha-2 code
  email_list,   // array of e-mails
  phone_list,   // array of phones
  object,       // JSON object (stored as JSON text)
  array,        // JSON array (stored as JSON text)
};

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::text;
  bool required = false;  // must be present and non-null on create
  bool personal = false;  // personal data: committed, not stored, in the audit leaf (docs/architecture.md §5)
  bool derived = false;   // set by Nucleo's rules (a deal's status), never by a caller
  bool hidden = false;    // never leaves the kernel: not in API output, not in audit changes
  // Searched as text (names, e-mails, phones, tax ids): `contains`, `starts_with` and
  // `eq` are served by a trigram index on the folded text — PostgreSQL keeps a generated
  // `<name>_folded` column with a GIN index, SQLite an FTS5 table `<table>_text`
  // (migrations 0005 and 0030, docs/adr/0036-search-index-under-rls.md).
  bool folded = false;
  std::size_t max_length = 500;
  std::vector<std::string> allowed;  // enumeration values
  std::string target;                // reference: entity type it points to
  Json default_value;                // applied on create when absent (null: none)
  // Free text that still identifies a record (an external id, a SKU): lists filter it
  // by equality like references and enumerations.
  bool identifying = false;
  // array: the JSON Schema of its elements, as OpenAPI publishes it (the entity rules
  // enforce it); null: any JSON value.
  Json items;
};

// Who may change an entity's records and who owns them — declared with the entity
// (ADR 0004), read by services/access_policy; the HTTP routes and OpenAPI follow.
struct EntityPolicy {
  // Roles besides admin that may create and change records. Auditors never write;
  // integration keys write what their scopes name.
  std::vector<std::string> writers;
  // Roles that may read them; empty: every role.
  std::vector<std::string> readers;
  // The field naming a record's owner: sales, support and marketing see the records
  // they, their teams or nobody own. Empty: the whole tenant sees them.
  std::string owner_field;
  // The verb of the creation event: "account.created", but "interaction.logged".
  std::string created_verb = "created";
  // A change to a record changes what callers may do (users, teams, keys): nodes
  // forget the callers they authenticated at once (ADR 0008).
  bool defines_access = false;
  // Served as a collection at /v1/<table> with the generic protocol.
  bool served = true;
  // Where under /v1 it is served when not at its table's name ("automation/rules").
  std::string path;
};

// A core entity: its JSON/column fields beyond the system ones every entity has
// (id, tenant_id, version, created_at, updated_at, archived_at — never writable).
struct EntitySpec {
  std::string type;    // "account"
  std::string prefix;  // "acc"
  std::string table;   // "accounts"
  std::vector<FieldSpec> fields;
  bool has_attributes = true;  // an `attributes` object, keys declared by plugins
  // Whose personal data the personal fields are (docs/architecture.md §5): the record this reference
  // field names, or — when empty or null — the record itself (a contact, a user).
  std::string data_subject_field;
  EntityPolicy policy;
  // Its e-mails and phones are matched against other records' on every write, and a
  // write's answer lists the matches in `duplicates[]` (services/entity_rules.cpp).
  bool reports_duplicates = false;

  const FieldSpec* field(std::string_view name) const;
};

// A field that names one key of a JSON object column — "attributes.<key>", or a
// contact's "consent.<purpose>" (the state the consent ledger keeps there) — as
// {column, key}; nothing for any other field.
std::optional<std::pair<std::string, std::string>> keyed_json_field(const std::string& field);

// The system fields, in column order, that every entity row carries.
const std::vector<std::string>& system_fields();

// The core entities (docs/architecture.md §4).
const EntitySpec& entity_spec(std::string_view type);  // throws Error(internal) for an unknown type
const EntitySpec* find_entity_spec(std::string_view type);
const std::vector<const EntitySpec*>& all_entity_specs();

}  // namespace nucleo
