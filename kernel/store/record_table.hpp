#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::store {

// Equality filters and keyset paging over a record table.
struct RecordQuery {
  std::vector<std::pair<std::string, Json>> equals;  // field = value (value in its JSON form)
  std::string after_id;                              // keyset: rows with id > after_id (ids sort by creation)
  std::size_t limit = 50;
  bool include_archived = false;
  std::optional<std::int64_t> updated_since;  // updated_at >= this (µs)
  std::vector<std::pair<std::string, bool>> present;  // field IS NOT NULL (true) or IS NULL (false)
  // Object-level visibility: when owner_field is set, only rows whose owner is null
  // or one of visible_owners.
  std::string owner_field;
  std::vector<std::string> visible_owners;
};

// One condition of a search: `field` is a column of the entity (system or declared
// field) or `attributes.<key>`; `op` is eq, neq, lt, lte, gt, gte, in, contains,
// starts_with or exists. Callers validate fields and ops first (services/search.cpp).
struct SearchFilter {
  std::string field;
  std::string op;
  Json value;
};

struct SearchQuery {
  std::vector<std::vector<SearchFilter>> groups;  // OR of groups, each an AND of filters
  std::string sort_field = "id";                  // a column that is never NULL
  bool descending = false;
  std::optional<SqlValue> after_sort_value;  // keyset: continue after (value, id)
  std::string after_id;
  std::size_t limit = 50;
  std::string owner_field;  // object-level visibility, as in RecordQuery
  std::vector<std::string> visible_owners;
  // A text match no index can serve (a term of fewer than three word characters, a
  // field without a trigram index) reads at most this many records per page, in the
  // page's order after the cursor; 0: no bound. See SearchRows::scanned_to.
  std::size_t scan_limit = 0;
};

// A record rendered straight from its row to the JSON text the API shows (hidden
// fields left out), for list and search pages: building a Json per record and freeing
// it was about a quarter of a page's CPU time.
struct RenderedRecord {
  std::string json;
  std::string id;
  Json sort_value;  // the value of the query's sort field, in its JSON form (search)
};

// A search's page. When the bounded scan stopped before the end of the tenant's
// records, scanned_to is the (sort value, id) of the last record it read: the page may
// then hold fewer records than asked and the next one continues after that record.
struct SearchRows {
  std::vector<RenderedRecord> rows;
  std::optional<std::pair<SqlValue, std::string>> scanned_to;
};

// The repository of every core entity, driven by its EntitySpec: one column per field
// plus the system columns. Records travel as JSON in their API form (times RFC 3339,
// booleans true/false); the conversion to columns (int64 µs, 0/1, JSON text) is here.
// Every statement filters by tenant_id, the first fence (RLS is the second).
class RecordTable {
 public:
  explicit RecordTable(const EntitySpec& spec);

  void insert(Transaction& tx, const Json& record) const;
  // Writes every field of `record` when the stored version is `expected_version`;
  // false when no row matched (missing, other tenant, or stale version).
  bool update(Transaction& tx, const Json& record, std::int64_t expected_version) const;
  std::optional<Json> find(Transaction& tx, const std::string& tenant_id, const std::string& id) const;
  bool exists(Transaction& tx, const std::string& tenant_id, const std::string& id, bool include_archived) const;
  std::vector<Json> list(Transaction& tx, const std::string& tenant_id, const RecordQuery& query) const;
  std::vector<RenderedRecord> list_rendered(Transaction& tx, const std::string& tenant_id,
                                            const RecordQuery& query) const;
  SearchRows search_rendered(Transaction& tx, const std::string& tenant_id, const SearchQuery& query) const;

  // The type a column is stored as, for binding search values (attributes: text).
  FieldType column_type(const std::string& field) const;

  const EntitySpec& spec() const { return spec_; }

 private:
  using RowVisitor = std::function<void(const store::Row&)>;
  void for_each_listed(Transaction& tx, const std::string& tenant_id, const RecordQuery& q, const RowVisitor& visit) const;
  // Returns where a bounded scan stopped (SearchRows::scanned_to).
  std::optional<std::pair<SqlValue, std::string>> for_each_found(Transaction& tx, const std::string& tenant_id,
                                                                 const SearchQuery& q, const RowVisitor& visit) const;
  // What a search reads: on PostgreSQL the table's search view when it has one
  // (migration 0030), else the table.
  std::string search_source(Backend backend) const;
  std::string select_list() const;
  Json read_record(const store::Row& row) const;
  // `sort_column`: the index in columns_ of the query's sort field (shown_column_index).
  RenderedRecord render_record(const store::Row& row, std::size_t sort_column) const;
  // The index in columns_ of a column API output shows; columns_.size() for any other name.
  std::size_t shown_column_index(const std::string& name) const;

  struct Column {
    std::string name;
    FieldType type;
  };
  // A column as a page shows it: its member's key written once, `"name":`.
  struct ShownColumn {
    std::size_t index;
    std::string key;
  };
  const EntitySpec& spec_;
  std::vector<Column> columns_;  // system columns, then the spec's fields, then attributes
  std::vector<std::size_t> by_name_;  // indexes into columns_, in name order
  std::vector<ShownColumn> shown_;    // the columns API output shows (not hidden), in name order
};

// Converts one field's JSON value to its column value and back.
SqlValue to_column(FieldType type, const Json& value);

}  // namespace nucleo::store
