#include "kernel/store/record_table.hpp"

#include "kernel/domain/error.hpp"
#include "kernel/domain/time.hpp"

namespace nucleo::store {
namespace {

struct Column {
  std::string name;
  FieldType type;
};

// System columns first, then the spec's fields, then attributes.
std::vector<Column> columns_of(const EntitySpec& spec) {
  std::vector<Column> columns{{"id", FieldType::text},
                              {"tenant_id", FieldType::text},
                              {"version", FieldType::integer},
                              {"created_at", FieldType::timestamp},
                              {"updated_at", FieldType::timestamp},
                              {"archived_at", FieldType::timestamp}};
  for (const auto& f : spec.fields) columns.push_back({f.name, f.type});
  if (spec.has_attributes) columns.push_back({"attributes", FieldType::object});
  return columns;
}

bool stored_as_json_text(FieldType type) {
  return type == FieldType::object || type == FieldType::array || type == FieldType::email_list ||
         type == FieldType::phone_list;
}

Json from_column(FieldType type, const soci::row& row, std::size_t i) {
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
      return stored_as_json_text(type) ? Json::parse(*v) : Json(*v);
    }
  }
}

}  // namespace

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
  for (const auto& c : columns_of(spec_)) list += (list.empty() ? "" : ", ") + c.name;
  return list;
}

Json RecordTable::read_record(const soci::row& row) const {
  Json record = Json::object();
  auto columns = columns_of(spec_);
  for (std::size_t i = 0; i < columns.size(); ++i) record[columns[i].name] = from_column(columns[i].type, row, i);
  return record;
}

void RecordTable::insert(Transaction& tx, const Json& record) const {
  std::string names, marks;
  std::vector<SqlValue> values;
  for (const auto& c : columns_of(spec_)) {
    names += (values.empty() ? "" : ", ") + c.name;
    marks += (values.empty() ? "" : ", ") + placeholder(values.size());
    values.push_back(to_column(c.type, record.value(c.name, Json())));
  }
  execute(tx.session(), "INSERT INTO " + spec_.table + " (" + names + ") VALUES (" + marks + ")", values);
}

bool RecordTable::update(Transaction& tx, const Json& record, std::int64_t expected_version) const {
  std::string sets;
  std::vector<SqlValue> values;
  for (const auto& c : columns_of(spec_)) {
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
        {id, tenant_id}, [&](const soci::row& row) { found = read_record(row); });
  return found;
}

bool RecordTable::exists(Transaction& tx, const std::string& tenant_id, const std::string& id,
                         bool include_archived) const {
  bool found = false;
  query(tx.session(),
        "SELECT 1 FROM " + spec_.table + " WHERE id = :p0 AND tenant_id = :p1" +
            (include_archived ? "" : " AND archived_at IS NULL"),
        {id, tenant_id}, [&](const soci::row&) { found = true; });
  return found;
}

std::vector<Json> RecordTable::list(Transaction& tx, const std::string& tenant_id, const RecordQuery& q) const {
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
  std::vector<Json> out;
  query(tx.session(), sql, values, [&](const soci::row& row) { out.push_back(read_record(row)); });
  return out;
}

}  // namespace nucleo::store
