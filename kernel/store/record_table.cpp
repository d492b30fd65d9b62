#include "kernel/store/record_table.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/domain/search_fold.hpp"
#include "kernel/domain/time.hpp"

namespace nucleo::store {
namespace {

bool stored_as_json_text(FieldType type) {
  return type == FieldType::object || type == FieldType::array || type == FieldType::email_list ||
         type == FieldType::phone_list;
}

Json from_column(FieldType type, const store::Row& row, std::size_t i) {
  switch (type) {
    case FieldType::integer: {
      auto v = integer_at(row, i);
      return v ? Json(*v) : Json();
    }
    case FieldType::boolean: {
      auto v = integer_at(row, i);
      return v ? Json(*v != 0) : Json();
    }
    case FieldType::timestamp: {
      auto v = integer_at(row, i);
      return v ? Json(format_rfc3339(Timestamp{*v})) : Json();
    }
    default: {
      auto v = text_at(row, i);
      if (!v) return Json();
      if (!stored_as_json_text(type)) return Json(std::move(*v));
      // Most attributes and lists are empty: skip the parser for them.
      if (*v == "{}") return Json::object();
      if (*v == "[]") return Json::array();
      return Json::parse(*v);
    }
  }
}

// One column as JSON text: the bytes from_column()'s value would be written as, minus
// the Json in between, and with no copy of the column's text where the driver holds it.
void append_column_json(std::string& out, FieldType type, const store::Row& row, std::size_t i,
                        std::string& scratch) {
  switch (type) {
    case FieldType::integer:
    case FieldType::boolean:
      append_json_text(out, from_column(type, row, i));  // a scalar Json: no heap
      return;
    case FieldType::timestamp: {
      auto v = integer_at(row, i);
      if (v) {
        out.push_back('"');
        append_rfc3339(out, Timestamp{*v});
        out.push_back('"');
      } else {
        out += "null";
      }
      return;
    }
    default: {
      auto v = text_view_at(row, i, scratch);
      if (!v) {
        out += "null";
      } else if (!stored_as_json_text(type)) {
        append_json_string(out, *v);
      } else if (*v == "{}" || *v == "[]") {
        out += *v;
      } else {
        append_json_text(out, Json::parse(*v));  // re-written: the stored text may be spaced
      }
    }
  }
}

}  // namespace

RecordTable::RecordTable(const EntitySpec& spec) : spec_(spec) {
  columns_ = {{"id", FieldType::text},
                              {"tenant_id", FieldType::text},
                              {"version", FieldType::integer},
                              {"created_at", FieldType::timestamp},
                              {"updated_at", FieldType::timestamp},
                              {"archived_at", FieldType::timestamp}};
  for (const auto& f : spec.fields) columns_.push_back({f.name, f.type});
  if (spec.has_attributes) columns_.push_back({"attributes", FieldType::object});
  by_name_.resize(columns_.size());
  for (std::size_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::sort(by_name_.begin(), by_name_.end(), [&](auto a, auto b) { return columns_[a].name < columns_[b].name; });
  for (std::size_t i : by_name_) {
    if (const FieldSpec* f = spec.field(columns_[i].name); f && f->hidden) continue;
    std::string key;
    append_json_string(key, columns_[i].name);
    shown_.push_back({i, key + ':'});
  }
}

std::size_t RecordTable::shown_column_index(const std::string& name) const {
  for (const ShownColumn& shown : shown_)
    if (columns_[shown.index].name == name) return shown.index;
  return columns_.size();  // hidden or no column: a hidden value never reaches a cursor
}

SqlValue to_column(FieldType type, const Json& value) {
  if (value.is_null()) return std::monostate{};
  switch (type) {
    case FieldType::integer:
      return value.get<std::int64_t>();
    case FieldType::boolean:
      return std::int64_t{value.get<bool>() ? 1 : 0};
    case FieldType::timestamp: {
      auto t = parse_rfc3339(value.get<std::string>());
      return t ? SqlValue{t->micros} : SqlValue{};
    }
    default:
      if (stored_as_json_text(type)) return value.dump();
      return value.get<std::string>();
  }
}

std::string RecordTable::select_list() const {
  std::string list;
  for (const auto& c : columns_) list += (list.empty() ? "" : ", ") + c.name;
  return list;
}

Json RecordTable::read_record(const store::Row& row) const {
  // Members inserted in key order, each at the end of the map: no search per member
  // (a list page reads 50 records).
  Json record = Json::object();
  auto& members = record.get_ref<Json::object_t&>();
  for (std::size_t i : by_name_) members.emplace_hint(members.end(), columns_[i].name, from_column(columns_[i].type, row, i));
  return record;
}

RenderedRecord RecordTable::render_record(const store::Row& row, std::size_t sort_column) const {
  RenderedRecord out;
  out.json.reserve(512);
  out.json.push_back('{');
  std::string scratch;  // a column's text, where the driver does not hold it
  for (const ShownColumn& shown : shown_) {
    if (out.json.size() > 1) out.json.push_back(',');
    out.json += shown.key;
    append_column_json(out.json, columns_[shown.index].type, row, shown.index, scratch);
  }
  out.json.push_back('}');
  out.id = text_at(row, 0).value_or("");  // columns_ starts with the id
  if (sort_column < columns_.size()) out.sort_value = from_column(columns_[sort_column].type, row, sort_column);
  return out;
}

void RecordTable::insert(Transaction& tx, const Json& record) const {
  std::string names;
  std::vector<SqlValue> values;
  for (const auto& c : columns_) {
    names += (values.empty() ? "" : ", ") + c.name;
    values.push_back(to_column(c.type, record.value(c.name, Json())));
  }
  // Sent with the next statement (or the batch's next ones: Transaction::append_referenced).
  tx.append_referenced(spec_.table, "(" + names + ")", std::move(values));
}

bool RecordTable::update(Transaction& tx, const Json& record, std::int64_t expected_version) const {
  std::string sets;
  std::vector<SqlValue> values;
  for (const auto& c : columns_) {
    if (c.name == "id" || c.name == "tenant_id" || c.name == "created_at") continue;
    sets += (values.empty() ? "" : ", ") + c.name + " = " + placeholder(values.size());
    values.push_back(to_column(c.type, record.value(c.name, Json())));
  }
  std::string where = " WHERE id = " + placeholder(values.size()) +
                      " AND tenant_id = " + placeholder(values.size() + 1) +
                      " AND version = " + placeholder(values.size() + 2);
  values.push_back(record.at("id").get<std::string>());
  values.push_back(record.at("tenant_id").get<std::string>());
  values.push_back(expected_version);
  return execute(tx.session(), "UPDATE " + spec_.table + " SET " + sets + where, values) == 1;
}

std::optional<Json> RecordTable::find(Transaction& tx, const std::string& tenant_id, const std::string& id) const {
  std::optional<Json> found;
  query(tx.session(), "SELECT " + select_list() + " FROM " + spec_.table + " WHERE id = :p0 AND tenant_id = :p1",
        {id, tenant_id}, [&](const store::Row& row) { found = read_record(row); });
  return found;
}

bool RecordTable::exists(Transaction& tx, const std::string& tenant_id, const std::string& id,
                         bool include_archived) const {
  bool found = false;
  query(tx.session(),
        "SELECT 1 FROM " + spec_.table + " WHERE id = :p0 AND tenant_id = :p1" +
            (include_archived ? "" : " AND archived_at IS NULL"),
        {id, tenant_id}, [&](const store::Row&) { found = true; });
  return found;
}

std::vector<Json> RecordTable::list(Transaction& tx, const std::string& tenant_id, const RecordQuery& q) const {
  std::vector<Json> out;
  for_each_listed(tx, tenant_id, q, [&](const store::Row& row) { out.push_back(read_record(row)); });
  return out;
}

std::vector<RenderedRecord> RecordTable::list_rendered(Transaction& tx, const std::string& tenant_id,
                                                       const RecordQuery& q) const {
  std::vector<RenderedRecord> out;
  for_each_listed(tx, tenant_id, q, [&](const store::Row& row) { out.push_back(render_record(row, 0)); });
  return out;
}

void RecordTable::for_each_listed(Transaction& tx, const std::string& tenant_id, const RecordQuery& q,
                                  const RowVisitor& visit) const {
  std::string sql = "SELECT " + select_list() + " FROM " + spec_.table + " WHERE tenant_id = :p0";
  std::vector<SqlValue> values{tenant_id};
  if (!q.include_archived) sql += " AND archived_at IS NULL";
  for (const auto& [field, value] : q.equals) {
    // Field names become SQL text: only the spec's own fields and `id` are accepted.
    const FieldSpec* f = spec_.field(field);
    if (f == nullptr && field != "id")
      throw Error(ErrorCode::validation, "cannot filter " + spec_.type + " by '" + field + "'",
                  {{field, "is not a filterable field"}});
    FieldType type = f ? f->type : FieldType::text;
    sql += " AND " + field + (value.is_null() ? " IS NULL" : " = " + placeholder(values.size()));
    if (!value.is_null()) values.push_back(to_column(type, value));
  }
  for (const auto& [field, is_set] : q.present) {
    if (spec_.field(field) == nullptr) throw Error(ErrorCode::internal, spec_.type + " has no field " + field);
    sql += " AND " + field + (is_set ? " IS NOT NULL" : " IS NULL");
  }
  if (q.updated_since) {
    sql += " AND updated_at >= " + placeholder(values.size());
    values.push_back(*q.updated_since);
  }
  if (!q.owner_field.empty()) {
    if (spec_.field(q.owner_field) == nullptr)
      throw Error(ErrorCode::internal, spec_.type + " has no owner field " + q.owner_field);
    sql += " AND (" + q.owner_field + " IS NULL";
    if (!q.visible_owners.empty()) {
      sql += " OR " + q.owner_field + " IN (";
      for (std::size_t i = 0; i < q.visible_owners.size(); ++i) {
        sql += (i ? ", " : "") + placeholder(values.size());
        values.push_back(q.visible_owners[i]);
      }
      sql += ")";
    }
    sql += ")";
  }
  if (!q.after_id.empty()) {
    sql += " AND id > " + placeholder(values.size());
    values.push_back(q.after_id);
  }
  sql += " ORDER BY id LIMIT " + std::to_string(q.limit);
  query(tx.session(), sql, values, visit);
}

FieldType RecordTable::column_type(const std::string& field) const {
  if (field == "version") return FieldType::integer;
  if (field == "created_at" || field == "updated_at" || field == "archived_at") return FieldType::timestamp;
  if (const FieldSpec* f = spec_.field(field)) return f->type;
  return FieldType::text;
}

namespace {

// LIKE's wildcards escaped with '\\' (the default escape on PostgreSQL, spelled out on SQLite).
std::string like_literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// An FTS5 query for the rows whose column holds `text`: one quoted phrase, which the
// trigram tokenizer matches as a substring.
std::string fts_phrase(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// SQLite: at most this many FTS5 candidates are looked up one by one (common_terms).
constexpr std::size_t sqlite_candidates_looked_up = 1000;

bool is_list(FieldType type) { return type == FieldType::email_list || type == FieldType::phone_list; }

// Whether a trigram index serves a text match of this field for this folded term.
bool served_by_index(const EntitySpec& spec, const std::string& field, const std::string& folded_term) {
  const FieldSpec* f = spec.field(field);
  return f != nullptr && f->folded && trigram_searchable(folded_term);
}

// SQLite: the text matches (field and folded term) whose FTS5 candidates are too many to
// look up one by one: those read records in id order until the page is full, without
// the index (common_terms).
using CommonTerms = std::set<std::pair<std::string, std::string>>;

class WhereBuilder {
 public:
  WhereBuilder(const RecordTable& table, Backend backend, std::vector<SqlValue>& values,
               const CommonTerms* common = nullptr)
      : table_(table), backend_(backend), values_(values), common_(common) {}

  std::string bind(SqlValue v) {
    values_.push_back(std::move(v));
    return placeholder(values_.size() - 1);
  }

  // attributes.<key> (and a contact's consent.<purpose>) reads the key from the JSON
  // column, as text on both backends — or, compared with a number, as a number (NULL
  // where the key holds no number).
  std::string column(const std::string& field, bool numeric = false) {
    auto keyed = keyed_json_field(field);
    if (!keyed) return field;
    const auto& [json_column, key] = *keyed;
    if (backend_ == Backend::postgresql) {
      if (!numeric) return "(" + json_column + " ->> " + bind(key) + ")";
      return "(CASE WHEN jsonb_typeof(" + json_column + " -> " + bind(key) + ") = 'number' THEN (" + json_column +
             " ->> " + bind(key) + ")::numeric END)";
    }
    std::string path = "$.\"" + key + "\"";
    if (!numeric) return "CAST(json_extract(" + json_column + ", " + bind(path) + ") AS TEXT)";
    return "(CASE WHEN json_type(" + json_column + ", " + bind(path) + ") IN ('integer', 'real') THEN json_extract(" +
           json_column + ", " + bind(path) + ") END)";
  }
  static bool numeric_attribute(const SearchFilter& f) {
    const Json& sample = f.op == "in" && f.value.is_array() && !f.value.empty() ? f.value[0] : f.value;
    return keyed_json_field(f.field).has_value() && sample.is_number();
  }
  // A number compared with an attribute, as the backend's number.
  std::string number_bound(const Json& v) {
    if (v.is_number_integer()) return bind(v.get<std::int64_t>());
    return "CAST(" + bind(v.dump()) + (backend_ == Backend::postgresql ? " AS numeric)" : " AS REAL)");
  }

  // The column folded as nucleo_fold() folds it; a list's values one per line.
  std::string fold_expression(const std::string& field, const std::string& col) const {
    const FieldSpec* f = table_.spec().field(field);
    if (f == nullptr || !is_list(f->type)) return "nucleo_fold(" + col + ")";
    if (backend_ == Backend::postgresql) return "nucleo_fold_list(" + col + ")";
    return "nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(" + col + ")))";
  }

  bool indexed(const std::string& field, const std::string& folded_term) const {
    return served_by_index(table_.spec(), field, folded_term) && !(common_ && common_->count({field, folded_term}));
  }

  // contains and starts_with: LIKE on the folded column. PostgreSQL reads the stored fold
  // through the search view, where the planner may use its trigram index; SQLite narrows
  // to the candidates its FTS5 table finds, then checks each with the same LIKE.
  std::string text_match(const SearchFilter& f, const std::string& col) {
    std::string term = fold_for_search(f.value.get<std::string>());
    std::string pattern = (f.op == "contains" ? "%" : "") + like_literal(term) + "%";
    bool use_index = indexed(f.field, term);
    if (backend_ == Backend::postgresql) {
      const FieldSpec* spec_field = table_.spec().field(f.field);
      std::string folded = spec_field && spec_field->folded ? f.field + "_folded" : fold_expression(f.field, col);
      // PostgreSQL's LIKE escapes with '\\' by default; spelling ESCAPE out would wrap the
      // pattern in like_escape() and cost the planner its estimate.
      return folded + " LIKE " + bind(pattern);
    }
    std::string candidates = use_index ? fts_candidates(f.field, term) + " AND " : "";
    return "(" + candidates + fold_expression(f.field, col) + " LIKE " + bind(pattern) + " ESCAPE '\\')";
  }

  // `eq` on a field with a trigram index: equal values have equal folds, so the index
  // narrows the rows first.
  std::string equality(const SearchFilter& f, const std::string& col) {
    std::string v = bind(value(f.field, f.value));
    std::string term = f.value.is_string() ? fold_for_search(f.value.get<std::string>()) : "";
    if (!indexed(f.field, term)) return col + " = " + v;
    if (backend_ == Backend::postgresql) return "(" + col + " = " + v + " AND " + f.field + "_folded = " + bind(term) + ")";
    return "(" + col + " = " + v + " AND " + fts_candidates(f.field, term) + ")";
  }

  // SQLite: the ids whose FTS5 row holds `term` in the field's column.
  std::string fts_candidates(const std::string& field, const std::string& term) {
    const EntitySpec& spec = table_.spec();
    return "id IN (SELECT k.id FROM " + spec.type + "_search_keys k WHERE k.rowid IN (SELECT rowid FROM " +
           spec.table + "_text WHERE " + field + " MATCH " + bind(fts_phrase(term)) + "))";
  }

  SqlValue value(const std::string& field, const Json& v) {
    if (keyed_json_field(field)) return v.is_string() ? SqlValue{v.get<std::string>()} : SqlValue{v.dump()};
    return to_column(table_.column_type(field), v);
  }

  std::string condition(const SearchFilter& f) {
    if (numeric_attribute(f)) return numeric_condition(f);
    std::string col = column(f.field);
    if (f.op == "exists") return col + (f.value.get<bool>() ? " IS NOT NULL" : " IS NULL");
    if (f.op == "contains" || f.op == "starts_with") return text_match(f, col);
    if (f.op == "eq") return equality(f, col);
    if (f.op == "in") {
      std::string list;
      for (const auto& item : f.value) list += (list.empty() ? "" : ", ") + bind(value(f.field, item));
      return col + " IN (" + list + ")";
    }
    static const std::map<std::string, std::string> operators = {
        {"eq", "="}, {"lt", "<"}, {"lte", "<="}, {"gt", ">"}, {"gte", ">="}};
    if (f.op == "neq") {
      // The column is written twice; an attribute column carries its own bound key,
      // so build it again rather than repeat a placeholder (ADR 0001).
      std::string again = column(f.field);
      std::string v = bind(value(f.field, f.value));
      return "(" + col + " IS NULL OR " + again + " <> " + v + ")";
    }
    return col + " " + operators.at(f.op) + " " + bind(value(f.field, f.value));
  }

  std::string numeric_condition(const SearchFilter& f) {
    std::string col = column(f.field, true);
    if (f.op == "in") {
      std::string list;
      for (const auto& item : f.value) list += (list.empty() ? "" : ", ") + number_bound(item);
      return col + " IN (" + list + ")";
    }
    if (f.op == "neq") {
      std::string again = column(f.field, true);
      return "(" + col + " IS NULL OR " + again + " <> " + number_bound(f.value) + ")";
    }
    static const std::map<std::string, std::string> operators = {
        {"eq", "="}, {"lt", "<"}, {"lte", "<="}, {"gt", ">"}, {"gte", ">="}};
    return col + " " + operators.at(f.op) + " " + number_bound(f.value);
  }

 private:
  const RecordTable& table_;
  Backend backend_;
  std::vector<SqlValue>& values_;
  const CommonTerms* common_;
};

}  // namespace

SearchRows RecordTable::search_rendered(Transaction& tx, const std::string& tenant_id, const SearchQuery& q) const {
  SearchRows out;
  const std::size_t sort_column = shown_column_index(q.sort_field);
  out.scanned_to = for_each_found(tx, tenant_id, q,
                                  [&](const store::Row& row) { out.rows.push_back(render_record(row, sort_column)); });
  return out;
}

std::string RecordTable::search_source(Backend backend) const {
  bool indexed = std::any_of(spec_.fields.begin(), spec_.fields.end(), [](const FieldSpec& f) { return f.folded; });
  return backend == Backend::postgresql && indexed ? spec_.table + "_search" : spec_.table;
}

namespace {

// Whether some text match of the search has no index to use (WhereBuilder::indexed).
bool needs_bounded_scan(const EntitySpec& spec, const SearchQuery& q) {
  for (const auto& group : q.groups)
    for (const auto& f : group)
      if ((f.op == "contains" || f.op == "starts_with") &&
          !served_by_index(spec, f.field, fold_for_search(f.value.get<std::string>())))
        return true;
  return false;
}

// SQLite: whether the search is one group of filters of which one is a text match the
// FTS5 table serves. SQLite should then start from the candidates, looked up by id (or,
// for a common term, read records in id order); left to itself it reads every record of
// the tenant through its tenant_id index and tests each (18 ms on 100,000 accounts
// against 0.2 ms for a rare term; 320 ms against 2 ms for a common one).
bool is_text_match(const SearchFilter& f) {
  return f.op == "contains" || f.op == "starts_with" || (f.op == "eq" && f.value.is_string());
}

bool starts_from_text_index(const EntitySpec& spec, const SearchQuery& q) {
  if (q.groups.size() != 1) return false;
  return std::any_of(q.groups[0].begin(), q.groups[0].end(), [&](const SearchFilter& f) {
    return is_text_match(f) && served_by_index(spec, f.field, fold_for_search(f.value.get<std::string>()));
  });
}

// SQLite: the text matches of the search whose FTS5 table holds more than `most`
// candidates (in any tenant). Gathering and looking up every candidate costs more than
// reading records in id order until the page is full (99 ms against about 2 ms for a name
// in one account of five, on 100,000 accounts).
CommonTerms common_terms(Transaction& tx, const EntitySpec& spec, const SearchQuery& q, std::size_t most) {
  CommonTerms common;
  for (const auto& group : q.groups)
    for (const auto& f : group) {
      if (!is_text_match(f)) continue;
      std::string term = fold_for_search(f.value.get<std::string>());
      if (!served_by_index(spec, f.field, term) || common.count({f.field, term})) continue;
      std::int64_t found = 0;
      query(tx.session(),
            "SELECT count(*) FROM (SELECT rowid FROM " + spec.table + "_text WHERE " + f.field +
                " MATCH :p0 LIMIT " + std::to_string(most + 1) + ")",
            {fts_phrase(term)}, [&](const store::Row& row) { found = required_integer(row, 0); });
      if (found > static_cast<std::int64_t>(most)) common.insert({f.field, term});
    }
  return common;
}

// The conditions every statement of a search shares: the tenant, live records, the
// owners the caller may see. Binds into `where`; the tenant is :p0. `+tenant_id` keeps
// SQLite from choosing a tenant_id index (starts_from_text_index).
std::string visible_rows(WhereBuilder& where, const std::string& tenant_id, const SearchQuery& q,
                         bool tenant_index_unwanted = false) {
  std::string sql = std::string(tenant_index_unwanted ? " WHERE +tenant_id = " : " WHERE tenant_id = ") +
                    where.bind(tenant_id) + " AND archived_at IS NULL";
  if (!q.owner_field.empty()) {
    sql += " AND (" + q.owner_field + " IS NULL";
    for (const auto& owner : q.visible_owners) sql += " OR " + q.owner_field + " = " + where.bind(owner);
    sql += ")";
  }
  return sql;
}

// Rows strictly after (value, id) in the page's order ("<" or ">"), or up to and
// including it ("<=" or ">=" on the id).
std::string beyond(WhereBuilder& where, const std::string& sort, const char* op, const char* id_op,
                   const SqlValue& value, const std::string& id) {
  if (sort == "id") return " AND id " + std::string(id_op) + " " + where.bind(id);
  // One bind per statement: SOCI binds by order of appearance in the text, and the
  // operands of one `+` expression are evaluated in no fixed order.
  std::string sql = " AND (" + sort + " " + op + " ";
  sql += where.bind(value);
  sql += " OR (" + sort + " = ";
  sql += where.bind(value);
  sql += " AND id " + std::string(id_op) + " ";
  sql += where.bind(id);
  return sql + "))";
}

std::string order_by(const SearchQuery& q) {
  std::string direction = q.descending ? " DESC" : " ASC";
  return " ORDER BY " + (q.sort_field == "id" ? std::string() : q.sort_field + direction + ", ") + "id" + direction;
}

}  // namespace

std::optional<std::pair<SqlValue, std::string>> RecordTable::for_each_found(Transaction& tx,
                                                                            const std::string& tenant_id,
                                                                            const SearchQuery& q,
                                                                            const RowVisitor& visit) const {
  const std::string& s = q.sort_field;
  const char* after = q.descending ? "<" : ">";
  const std::string source = search_source(tx.backend());
  // A bounded scan first finds the last record it may read: the scan_limit-th visible
  // record after the cursor, counted on this tenant's rows only.
  std::optional<std::pair<SqlValue, std::string>> scan_end;
  if (q.scan_limit > 0 && needs_bounded_scan(spec_, q)) {
    std::vector<SqlValue> values;
    WhereBuilder where(*this, tx.backend(), values);
    std::string sql = "SELECT " + s + ", id FROM " + source + visible_rows(where, tenant_id, q);
    if (q.after_sort_value) sql += beyond(where, s, after, after, *q.after_sort_value, q.after_id);
    sql += order_by(q) + " LIMIT 1 OFFSET " + std::to_string(q.scan_limit - 1);
    bool integer = column_type(s) == FieldType::integer || column_type(s) == FieldType::timestamp ||
                   column_type(s) == FieldType::boolean;
    query(tx.session(), sql, values, [&](const store::Row& row) {
      SqlValue value = integer ? SqlValue{required_integer(row, 0)} : SqlValue{required_text(row, 0)};
      scan_end = std::make_pair(std::move(value), required_text(row, 1));
    });
  }

  std::vector<SqlValue> values;
  CommonTerms common;
  // Reading in order only pays when the order is the id's, the primary key's.
  if (tx.backend() == Backend::sqlite && q.sort_field == "id")
    common = common_terms(tx, spec_, q, sqlite_candidates_looked_up);
  WhereBuilder where(*this, tx.backend(), values, &common);
  bool from_fts = tx.backend() == Backend::sqlite && starts_from_text_index(spec_, q);
  std::string sql = "SELECT " + select_list() + " FROM " + source + visible_rows(where, tenant_id, q, from_fts);
  if (!q.groups.empty()) {
    std::string any;
    for (const auto& group : q.groups) {
      std::string all;
      for (const auto& f : group) all += (all.empty() ? "" : " AND ") + where.condition(f);
      any += (any.empty() ? "" : " OR ") + ("(" + (all.empty() ? std::string("1 = 1") : all) + ")");
    }
    sql += " AND (" + any + ")";
  }
  if (q.after_sort_value) sql += beyond(where, s, after, after, *q.after_sort_value, q.after_id);
  if (scan_end) sql += beyond(where, s, q.descending ? ">" : "<", q.descending ? ">=" : "<=", scan_end->first, scan_end->second);
  sql += order_by(q) + " LIMIT " + std::to_string(q.limit);
  // Planned with its values each time (no prepared statement): whether a term is rare or
  // common decides between the trigram index and the ordered scan.
  query_once(tx.session(), sql, values, visit);
  return scan_end;
}

}  // namespace nucleo::store
