#pragma once

// How the bulk import (issue #24, docs/import.md) turns a file's row into the input of one
// API write: each column to a field of the entity or `attributes.<key>`, with the simple
// transforms spreadsheets need, plus constants. The result is then validated exactly as an
// API write is (services/); a reference by tax id, e-mail or external id is left for the
// importer to find, in bulk.
//
//   {"entity": "contact",
//    "columns": {"Nome": "name",
//                "E-mail": {"field": "email"},
//                "Nascimento": {"field": "attributes.birth_date", "date": "dd/MM/yyyy"},
//                "CNPJ": {"field": "account_id", "lookup": {"entity": "account", "by": "tax_id"}}},
//    "constants": {"lifecycle": "lead"},
//    "time_zone": "America/Sao_Paulo"}
//
// A column is a field name, or an object: "field" (required); "trim" (default true);
// "date": a pattern of dd d MM M yyyy yy HH H mm ss and literal characters
// ("dd/MM/yyyy", "dd/MM/yyyy HH:mm"), making a date field's "YYYY-MM-DD" or a timestamp
// field's RFC 3339 instant read on `time_zone`'s clock (default UTC); "number": the style
// of the file's numbers, "1.234,56" (Brazilian) or "1,234.56", with "scale" the decimal
// places an integer field keeps (money in minor units: 2); "lookup": {"entity", "by":
// "tax_id" | "email" | "external_id"}. An empty cell leaves the field out, or with
// "empty": "null" sets it to null.
//
// Another system's history (ADR 0045): a column may also map to "created_at" (accounts,
// contacts, deals) and, for deals, "stage_entered_at" (when it entered its current
// stage) and "stage_entered.<stage id>" (an earlier stage). They go to the row's input as
// {"history": {"created_at", "stage_entered_at", "stages": {id: time}}}, which the
// importer hands to the services beside the input (CallContext::source_history).

#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"

namespace nucleo {

// A reference the mapping could not write as an id: the record of `entity` whose `by` is `value`.
struct ImportLookup {
  std::string field, entity, by, value;
};

struct MappedRow {
  Json input = Json::object();
  std::vector<FieldError> errors;  // field: the file's column name
  std::vector<ImportLookup> lookups;
};

class ImportMapping {
 public:
  // Checks the mapping against the entity's fields; throws Error(validation) naming each
  // problem (an unknown field, a pattern it cannot read, a lookup of an unknown kind).
  static ImportMapping parse(const Json& document);

  const EntitySpec& entity() const { return *entity_; }
  // The file columns the mapping names, in its order (a JSON Lines file's keys).
  std::vector<std::string> column_names() const;

  // Finds each mapped column in the file's header (by name, trimmed, any case); throws
  // Error(validation) naming the columns the file lacks.
  void bind(const std::vector<std::string>& header);
  // One data row, after bind(); a row shorter or longer than the header is an error.
  MappedRow map(const std::vector<std::string>& cells) const;

 private:
  struct Column {
    std::string name, field;
    const FieldSpec* spec = nullptr;  // null: an attribute
    bool trim = true, empty_is_null = false;
    std::string date_pattern, number_style, lookup_entity, lookup_by;
    int scale = 0;
    std::size_t position = 0;
  };
  Json converted(const Column& c, const std::string& cell, std::string& problem) const;

  const EntitySpec* entity_ = nullptr;
  std::vector<Column> columns_;
  Json constants_ = Json::object();
  std::string time_zone_ = "UTC";
  std::size_t header_width_ = 0;
};

// "1.234,56" read in `style` ("1.234,56" or "1,234.56") as an integer of `scale` decimal
// places (123456 at scale 2); false when it is not such a number or has more decimals.
bool parse_decimal(const std::string& text, const std::string& style, int scale, std::int64_t& out);

// Whether `pattern` is a date pattern parse_date_pattern reads.
bool is_date_pattern(const std::string& pattern);

struct WallClock {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool has_time = false;
};
// `text` read with `pattern`; false when it does not match or names no real day.
bool parse_date_pattern(const std::string& text, const std::string& pattern, WallClock& out);

}  // namespace nucleo
