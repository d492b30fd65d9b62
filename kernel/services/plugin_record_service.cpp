#include "kernel/services/plugin_record_service.hpp"

#include <regex>

#include "kernel/services/audited_reads.hpp"
#include "kernel/audit/recorder.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/change.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

using store::integer_at;
using store::text_at;

constexpr std::size_t max_document = 256 * 1024;
constexpr std::int64_t default_limit = 50, max_limit = 200;
constexpr std::int32_t reindex_lock_class = 0x6e755249;  // PostgreSQL advisory locks of re-indexing ("nuRI")

void require_tenant(const CallContext& ctx) {
  if (ctx.tenant_id.empty())
    throw Error(ErrorCode::validation,
                "the record store is per tenant and this call has none (signed routes: channels.resolve first)");
}

void check_id(const std::string& id) {
  static const std::regex pattern("^[A-Za-z0-9._:-]{1,128}$");
  if (!std::regex_match(id, pattern))
    throw Error(ErrorCode::validation, "record id '" + id + "' must be 1-128 letters, digits, '.', '_', ':' or '-'",
                {{"id", "invalid"}});
}

// The instant a "date" index's value names: a YYYY-MM-DD date (its midnight, UTC) or an
// RFC 3339 date-time.
std::optional<Timestamp> date_instant(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  return text.size() == 10 ? parse_rfc3339(text + "T00:00:00Z") : parse_rfc3339(text);
}

// The value of an indexed field as the index table stores it, or nothing when absent.
// A date compares as its text (write one form: ISO dates, or date-times in UTC).
std::optional<store::SqlValue> index_value(const std::string& field, const std::string& type, const Json& value) {
  if (value.is_null()) return std::nullopt;
  if (type == "integer" && value.is_number_integer()) return store::SqlValue{value.get<std::int64_t>()};
  if (type == "string" && value.is_string()) return store::SqlValue{value.get<std::string>()};
  if (type == "date" && date_instant(value)) return store::SqlValue{value.get<std::string>()};
  std::string wanted = type == "integer" ? "an integer" : type == "date" ? "a date (YYYY-MM-DD) or an RFC 3339 date-time" : "a string";
  throw Error(ErrorCode::validation, "field " + field + " is indexed as " + type + ", not " + value.dump(),
              {{field, "must be " + wanted + " or null"}});
}

Json stored_json(const store::Row& r, const std::string& collection) {
  return {{"collection", collection},
          {"id", store::required_text(r, 0)},
          {"document", Json::parse(store::required_text(r, 1))},
          {"version", store::required_integer(r, 2)},
          {"created_at", format_rfc3339(Timestamp{store::required_integer(r, 3)})},
          {"updated_at", format_rfc3339(Timestamp{store::required_integer(r, 4)})}};
}

constexpr const char* stored_columns = "id, document, version, created_at, updated_at";

std::string stored_columns_of(const std::string& table) {
  return table + ".id, " + table + ".document, " + table + ".version, " + table + ".created_at, " + table +
         ".updated_at";
}

void check_expected_version(const std::optional<Json>& before, std::optional<std::int64_t> expected,
                            const std::string& collection, const std::string& id) {
  if (!expected) return;
  std::string record = "record " + id + " in collection " + collection;
  if (*expected == 0 && before)
    throw Error(ErrorCode::conflict, record + " exists already (version " + (*before)["version"].dump() + ")");
  if (*expected > 0 && !before) throw Error(ErrorCode::not_found, "no " + record);
  if (*expected > 0 && (*before)["version"].get<std::int64_t>() != *expected)
    throw Error(ErrorCode::precondition_failed,
                record + " is at version " + (*before)["version"].dump() + ", not " + std::to_string(*expected));
}

// A document's index rows, rebuilt from `indexes`: whatever the record had is replaced.
void index_document(store::Transaction& tx, const std::vector<store::SqlValue>& key, const CollectionIndexes& indexes,
                    const Json& document) {
  store::execute(tx.session(),
                 "DELETE FROM plugin_record_index WHERE tenant_id = :p0 AND plugin_id = :p1 AND collection = :p2"
                 " AND record_id = :p3",
                 key);
  for (const auto& [field, type] : indexes) {
    auto value = index_value(field, type, document.value(field, Json()));
    if (!value) continue;
    bool integer = std::holds_alternative<std::int64_t>(*value);
    // A date keeps its instant beside its text: the timeline orders by it.
    store::SqlValue instant = integer ? *value : store::SqlValue{};
    if (type == "date") instant = date_instant(document[field])->micros;
    std::vector<store::SqlValue> row = key;
    row.insert(row.end(), {field, instant, integer ? store::SqlValue{} : *value});
    store::execute(tx.session(),
                   "INSERT INTO plugin_record_index (tenant_id, plugin_id, collection, record_id, field, int_value,"
                   " text_value) VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6)",
                   row);
  }
}

void delete_document(store::Transaction& tx, const std::vector<store::SqlValue>& key) {
  store::execute(tx.session(),
                 "DELETE FROM plugin_record_index WHERE tenant_id = :p0 AND plugin_id = :p1 AND collection = :p2"
                 " AND record_id = :p3",
                 key);
  store::execute(tx.session(),
                 "DELETE FROM plugin_records WHERE tenant_id = :p0 AND plugin_id = :p1 AND collection = :p2 AND id = :p3",
                 key);
}

// A write of a document as the one door records it. The personal fields' values are
// sealed under the key of the contact the document names, so erasing her makes them
// unreadable in the audit trail too (docs/architecture.md §5).
Change document_change(std::string action, std::string key, const Json& before, const Json& after, Json record,
                       const std::optional<PersonalData>& personal) {
  Change change{std::move(action), "plugin_record", std::move(key), audit::diff_changes(before, after), std::move(record)};
  if (!personal) return change;
  for (const auto& field : personal->fields)
    if (change.changes.contains(field)) change.personal_fields.push_back(field);
  for (const Json* document : {&after, &before}) {
    const Json subject = document->is_object() ? document->value(personal->subject_field, Json()) : Json();
    if (subject.is_string() && change.subject_id.empty()) change.subject_id = subject;
  }
  return change;
}

std::optional<Json> stored_document(store::Transaction& tx, const std::vector<store::SqlValue>& key,
                                    const std::string& collection) {
  std::optional<Json> found;
  store::query(tx.session(),
               std::string("SELECT ") + stored_columns +
                   " FROM plugin_records WHERE tenant_id = :p0 AND plugin_id = :p1 AND collection = :p2 AND id = :p3",
               key, [&](const store::Row& r) { found = stored_json(r, collection); });
  return found;
}

}  // namespace

// A plugin acts for its caller (docs/plugin-authoring.md, "Routes"): an auditor's request reads the store and
// writes nothing; an integration key needs the plugin_records scope, or the plugin's own
// ("<plugin id>:read|write", what its routes and resources ask for).
void require_store_access(const CallContext& ctx, const std::string& plugin_id, bool write) {
  require_tenant(ctx);
  const std::string access = write ? "write" : "read";
  const Principal* p = ctx.principal.get();
  bool plugin_scope = p && p->scopes_apply && scopes_grant(p->scopes, plugin_id, access);
  std::vector<std::string> roles{"admin", "manager", "sales", "support", "marketing", "integration"};
  if (!write) roles.push_back("auditor");
  require_role(ctx, roles, write ? "auditors read plugin records; they do not write them"
                                 : "the record store is read by the tenant's roles",
               plugin_scope ? plugin_id + ":" + access : "plugin_records:" + access);
}

Json PersonalData::to_json() const {
  return {{"subject_field", subject_field}, {"fields", fields}, {"on_erasure", on_erasure}};
}

PersonalData PersonalData::from_json(const Json& j) {
  return {j.at("subject_field").get<std::string>(), j.at("fields").get<std::vector<std::string>>(),
          j.value("on_erasure", "delete")};
}

// How the audit trail and the domain events name a record: "<plugin>/<collection>/<id>".
std::string PluginRecordService::record_key(const std::string& collection, const std::string& id) const {
  return plugin_id_ + "/" + collection + "/" + id;
}

const CollectionSpec& PluginRecordService::collection_of(const std::string& collection) const {
  auto it = collections_.find(collection);
  if (it == collections_.end())
    throw Error(ErrorCode::not_found, "plugin " + plugin_id_ + " declares no collection '" + collection +
                                          "' (plugin.json \"collections\")");
  return it->second;
}

Json PluginRecordService::get(const CallContext& ctx, const std::string& collection, const std::string& id) {
  require_store_access(ctx, plugin_id_, false);
  collection_of(collection);
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    auto found = stored_document(tx, {ctx.tenant_id, plugin_id_, collection, id}, collection);
    if (!found) throw Error(ErrorCode::not_found, "no record " + id + " in collection " + collection);
    return *found;
  });
}

Json PluginRecordService::put(const CallContext& ctx, const std::string& collection, const std::string& id,
                              const Json& document, std::optional<std::int64_t> expected_version) {
  require_store_access(ctx, plugin_id_, true);
  const CollectionSpec& spec = collection_of(collection);
  const auto& indexes = spec.indexes;
  check_id(id);
  if (!document.is_object()) throw Error(ErrorCode::validation, "a document is a JSON object");
  refuse_nul(document);  // jsonb cannot hold one
  if (spec.schema) spec.schema->require(document, "document", "invalid " + collection + " document");
  std::string text = to_json_text(document);
  if (text.size() > max_document)
    throw Error(ErrorCode::validation, "a document may hold at most 256 KiB, this one " + std::to_string(text.size()));
  for (const auto& [field, type] : indexes) index_value(field, type, document.value(field, Json()));  // 422 first

  Timestamp now = ctx.now();
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<store::SqlValue> key{ctx.tenant_id, plugin_id_, collection, id};
    std::optional<Json> before = stored_document(tx, key, collection);
    check_expected_version(before, expected_version, collection, id);
    if (before) {
      // The version read above must still be there: a concurrent writer that got in
      // first makes this one a conflict, not a silent overwrite.
      std::int64_t updated = store::execute(
          tx.session(),
          "UPDATE plugin_records SET document = :p0, version = version + 1, updated_at = :p1"
          " WHERE tenant_id = :p2 AND plugin_id = :p3 AND collection = :p4 AND id = :p5 AND version = :p6",
          {text, now.micros, ctx.tenant_id, plugin_id_, collection, id, (*before)["version"].get<std::int64_t>()});
      if (updated != 1)
        throw Error(ErrorCode::conflict, "record " + id + " in collection " + collection + " changed meanwhile");
    } else {
      store::execute(tx.session(),
                     "INSERT INTO plugin_records (tenant_id, plugin_id, collection, id, document, version, created_at,"
                     " updated_at) VALUES (:p0, :p1, :p2, :p3, :p4, 1, :p5, :p6)",
                     {ctx.tenant_id, plugin_id_, collection, id, text, now.micros, now.micros});
    }
    index_document(tx, key, indexes, document);
    Json stored = *stored_document(tx, key, collection);
    commit_change(tx, ctx,
                  document_change(before ? "plugin_record.updated" : "plugin_record.created", record_key(collection, id),
                                  before ? (*before)["document"] : Json(), document, stored, spec.personal));
    return stored;
  });
}

void PluginRecordService::remove(const CallContext& ctx, const std::string& collection, const std::string& id,
                                 std::optional<std::int64_t> expected_version) {
  require_store_access(ctx, plugin_id_, true);
  const CollectionSpec& spec = collection_of(collection);
  deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    std::vector<store::SqlValue> key{ctx.tenant_id, plugin_id_, collection, id};
    std::optional<Json> before = stored_document(tx, key, collection);
    if (!before) throw Error(ErrorCode::not_found, "no record " + id + " in collection " + collection);
    check_expected_version(before, expected_version, collection, id);
    delete_document(tx, key);
    commit_change(tx, ctx, document_change("plugin_record.deleted", record_key(collection, id), (*before)["document"],
                                           Json(), nullptr, spec.personal));
  });
}

PluginRecordService::TextPage PluginRecordService::query_text(const CallContext& ctx, const std::string& collection,
                                                             const Json& q) {
  require_store_access(ctx, plugin_id_, false);
  const auto& indexes = collection_of(collection).indexes;
  if (!q.is_object()) throw Error(ErrorCode::validation, "a query is a JSON object: {\"where\", \"limit\", \"cursor\"}");
  refuse_nul(q);
  for (const auto& [key, value] : q.items())
    if (key != "where" && key != "limit" && key != "cursor" && key != "sort" && key != "count")
      throw Error(ErrorCode::validation, "'" + key + "' is not a query field (where, sort, count, limit, cursor)",
                  {{key, "unknown"}});
  // The sort field, when there is one: its index row joins as s.
  std::string sort_field, sort_type;
  bool descending = false;
  if (q.contains("sort")) {
    std::string sort = q["sort"].is_string() ? q["sort"].get<std::string>() : "";
    descending = !sort.empty() && sort[0] == '-';
    sort_field = sort.substr(descending ? 1 : 0);
    auto indexed = indexes.find(sort_field);
    if (indexed == indexes.end())
      throw Error(ErrorCode::validation, "sort must name an indexed field, '-' before it for descending",
                  {{"sort", "not an indexed field"}});
    sort_type = indexed->second;
  }
  bool count = q.value("count", Json(false)) == true;
  std::int64_t limit = default_limit;
  if (q.contains("limit")) {
    if (!q["limit"].is_number_integer() || q["limit"].get<std::int64_t>() < 1 || q["limit"].get<std::int64_t>() > max_limit)
      throw Error(ErrorCode::validation, "limit must be an integer from 1 to 200", {{"limit", "1-200"}});
    limit = q["limit"].get<std::int64_t>();
  }
  std::vector<store::SqlValue> values{ctx.tenant_id, plugin_id_, collection};
  auto next = [&](store::SqlValue v) {
    values.push_back(std::move(v));
    return store::placeholder(values.size() - 1);
  };
  std::string sort_column = sort_type == "integer" ? "s.int_value" : "s.text_value";
  // Placeholders bind in the order they appear in the text (store/sql.hpp): the sort
  // field's condition is in WHERE, after the three above.
  std::string from = " FROM plugin_records r";
  std::string where_sql = " WHERE r.tenant_id = :p0 AND r.plugin_id = :p1 AND r.collection = :p2";
  if (!sort_field.empty()) {
    from += " JOIN plugin_record_index s ON s.tenant_id = r.tenant_id AND s.plugin_id = r.plugin_id"
            " AND s.collection = r.collection AND s.record_id = r.id";
    where_sql += " AND s.field = " + next(sort_field);
  }
  static const std::map<std::string, std::string> operators{{"eq", "="}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
  Json where = q.value("where", Json::object());
  if (!where.is_object()) throw Error(ErrorCode::validation, "where must be an object of fields", {{"where", "invalid"}});
  for (const auto& [field, conditions] : where.items()) {
    auto indexed = indexes.find(field);
    if (indexed == indexes.end())
      throw Error(ErrorCode::validation, "field " + field + " of " + collection + " is not indexed (plugin.json)",
                  {{field, "not indexed"}});
    if (!conditions.is_object() || conditions.empty())
      throw Error(ErrorCode::validation, "where." + field + " must be an object of eq, gt, gte, lt, lte",
                  {{field, "invalid condition"}});
    std::string column = indexed->second == "integer" ? "i.int_value" : "i.text_value";
    std::string clause = " AND EXISTS (SELECT 1 FROM plugin_record_index i WHERE i.tenant_id = r.tenant_id"
                         " AND i.plugin_id = r.plugin_id AND i.collection = r.collection AND i.record_id = r.id"
                         " AND i.field = " + next(field);
    for (const auto& [op, value] : conditions.items()) {
      auto sql_op = operators.find(op);
      if (sql_op == operators.end())
        throw Error(ErrorCode::validation, "'" + op + "' is not an operator (eq, gt, gte, lt, lte)", {{field, "invalid"}});
      auto v = index_value(field, indexed->second, value);
      if (!v) throw Error(ErrorCode::validation, "where." + field + "." + op + " needs a value", {{field, "null"}});
      clause += " AND " + column + " " + sql_op->second + " " + next(*v);
    }
    where_sql += clause + ")";
  }
  // The count is of everything `where` matches; the page continues after the cursor:
  // an id, or with a sort the [value, id] of the last document seen.
  std::vector<store::SqlValue> count_values = values;
  std::string count_sql = "SELECT count(*)" + from + where_sql;
  std::string page_where = where_sql;
  if (q.contains("cursor")) {
    if (!q["cursor"].is_string()) throw Error(ErrorCode::validation, "cursor must be a string", {{"cursor", "invalid"}});
    std::string cursor = q["cursor"];
    if (sort_field.empty()) {
      page_where += " AND r.id > " + next(cursor);
    } else {
      Json after = Json::parse(cursor, nullptr, false);
      if (!after.is_array() || after.size() != 2 || !after[1].is_string())
        throw Error(ErrorCode::validation, "cursor is not one this query answered", {{"cursor", "invalid"}});
      auto value = index_value(sort_field, sort_type, after[0]);
      if (!value) throw Error(ErrorCode::validation, "cursor is not one this query answered", {{"cursor", "invalid"}});
      std::string op = descending ? " < " : " > ";
      std::string v1 = next(*value), v2 = next(*value), id = next(after[1].get<std::string>());
      page_where += " AND (" + sort_column + op + v1 + " OR (" + sort_column + " = " + v2 + " AND r.id" + op + id + "))";
    }
  }
  std::string order = sort_field.empty() ? " ORDER BY r.id"
                      : descending        ? " ORDER BY " + sort_column + " DESC, r.id DESC"
                                          : " ORDER BY " + sort_column + ", r.id";
  std::string limit_placeholder = next(limit + 1);
  std::string sql = std::string("SELECT ") + stored_columns_of("r") + from + page_where + order + " LIMIT " +
                    limit_placeholder;
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    TextPage page;
    store::query(tx.session(), sql, values, [&](const store::Row& r) {
      page.data.push_back({store::required_text(r, 0), store::required_text(r, 1), store::required_integer(r, 2), store::required_integer(r, 3), store::required_integer(r, 4)});
    });
    if (static_cast<std::int64_t>(page.data.size()) > limit) {
      page.data.pop_back();
      const StoredText& last = page.data.back();
      // The index holds the document's own value of the sort field.
      page.next_cursor =
          sort_field.empty()
              ? Json(last.id)
              : Json(Json::array({Json::parse(last.document).value(sort_field, Json()), last.id}).dump());
    }
    if (count) {
      std::int64_t total = 0;
      store::query(tx.session(), count_sql, count_values, [&](const store::Row& r) { total = store::required_integer(r, 0); });
      page.count = total;
    }
    return page;
  });
}

Json PluginRecordService::query(const CallContext& ctx, const std::string& collection, const Json& q) {
  TextPage page = query_text(ctx, collection, q);
  Json data = Json::array();
  for (const auto& d : page.data)
    data.push_back({{"collection", collection},
                    {"id", d.id},
                    {"document", Json::parse(d.document)},
                    {"version", d.version},
                    {"created_at", format_rfc3339(Timestamp{d.created_at})},
                    {"updated_at", format_rfc3339(Timestamp{d.updated_at})}});
  Json out{{"data", data}, {"next_cursor", page.next_cursor}};
  if (page.count) out["count"] = *page.count;
  return out;
}

}  // namespace nucleo::services

namespace nucleo::services {

void PluginRecordService::record_reads(const CallContext& ctx, const std::string& collection,
                                       const std::vector<std::string>& ids, const std::string& break_glass_reason) {
  const CollectionSpec& spec = collection_of(collection);
  std::vector<audit::AuditEvent> events;
  Timestamp now = ctx.now();
  for (const auto& id : ids) {
    if (!break_glass_reason.empty()) {
      audit::AuditEvent e = audit_event(ctx, "plugin_record.break_glass_read", "plugin_record", record_key(collection, id), now);
      e.changes = {{"reason", {{"from", nullptr}, {"to", break_glass_reason}}}};
      events.push_back(std::move(e));
    }
    if (!spec.sensitive.empty()) {
      audit::AuditEvent e = audit_event(ctx, "plugin_record.sensitive_read", "plugin_record", record_key(collection, id), now);
      e.changes = {{"disclosed", {{"from", nullptr}, {"to", Json::array({"*:" + spec.sensitive})}}}};
      events.push_back(std::move(e));
    }
  }
  record_read_events(deps_, ctx.tenant_id, std::move(events));
}

std::size_t PluginRecordService::reindex(const CallContext& ctx, const std::string& collection) {
  require_store_access(ctx, plugin_id_, true);
  const CollectionSpec& spec = collection_of(collection);
  return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    // Nodes starting the new version together re-index one at a time; the second finds
    // the first one's rows and rebuilds them again, which changes nothing.
    if (tx.backend() == store::Backend::postgresql)
      store::query(tx.session(), "SELECT 1 FROM (SELECT pg_advisory_xact_lock(:p0, hashtext(:p1))) AS locked",
                   {reindex_lock_class, plugin_id_ + "/" + collection + "@" + ctx.tenant_id}, [](const store::Row&) {});
    std::vector<std::pair<std::string, Json>> documents;
    store::query(tx.session(),
                 "SELECT id, document FROM plugin_records WHERE tenant_id = :p0 AND plugin_id = :p1 AND collection = :p2"
                 " ORDER BY id",
                 {ctx.tenant_id, plugin_id_, collection},
                 [&](const store::Row& r) { documents.emplace_back(store::required_text(r, 0), Json::parse(store::required_text(r, 1))); });
    for (const auto& [id, document] : documents) {
      // A document written before an index was declared may hold another type there:
      // it stays unindexed by that field rather than failing the whole collection.
      CollectionIndexes fitting;
      for (const auto& [field, type] : spec.indexes) {
        try {
          index_value(field, type, document.value(field, Json()));
          fitting[field] = type;
        } catch (const Error&) {
        }
      }
      index_document(tx, {ctx.tenant_id, plugin_id_, collection, id}, fitting, document);
    }
    Json indexes(spec.indexes);
    commit_change(tx, ctx,
                  {"plugin_collection.reindexed", "plugin_collection", plugin_id_ + "/" + collection,
                   {{"indexes", {{"from", nullptr}, {"to", indexes}}},
                    {"documents", {{"from", nullptr}, {"to", documents.size()}}}},
                   {{"id", plugin_id_ + "/" + collection}, {"indexes", indexes}, {"documents", documents.size()}}});
    return documents.size();
  });
}

std::vector<SubjectDocument> subject_documents(store::Transaction& tx, const std::string& tenant_id,
                                               const std::string& subject_id) {
  struct Declared {
    std::string plugin_id, collection;
    CollectionIndexes indexes;
    PersonalData personal;
  };
  std::vector<Declared> declared;
  store::query(tx.session(),
               "SELECT plugin_id, collection, indexes, personal FROM plugin_collections WHERE personal IS NOT NULL"
               " ORDER BY plugin_id, collection",
               {}, [&](const store::Row& r) {
                 declared.push_back({store::required_text(r, 0), store::required_text(r, 1),
                                     Json::parse(store::required_text(r, 2)).get<CollectionIndexes>(),
                                     PersonalData::from_json(Json::parse(store::required_text(r, 3)))});
               });
  std::vector<SubjectDocument> out;
  for (const auto& d : declared)
    store::query(tx.session(),
                 "SELECT r.id, r.document, r.version FROM plugin_records r JOIN plugin_record_index i"
                 " ON i.tenant_id = r.tenant_id AND i.plugin_id = r.plugin_id AND i.collection = r.collection"
                 " AND i.record_id = r.id"
                 " WHERE r.tenant_id = :p0 AND r.plugin_id = :p1 AND r.collection = :p2 AND i.field = :p3"
                 " AND i.text_value = :p4 ORDER BY r.id",
                 {tenant_id, d.plugin_id, d.collection, d.personal.subject_field, subject_id},
                 [&](const store::Row& r) {
                   out.push_back({d.plugin_id, d.collection, store::required_text(r, 0), store::required_integer(r, 2),
                                  Json::parse(store::required_text(r, 1)), d.indexes, d.personal});
                 });
  return out;
}

std::optional<SubjectDocument> subject_document(store::Transaction& tx, const std::string& tenant_id,
                                                const std::string& plugin_id, const std::string& collection,
                                                const std::string& id) {
  std::optional<SubjectDocument> out;
  store::query(tx.session(),
               "SELECT c.indexes, c.personal, r.document, r.version FROM plugin_collections c JOIN plugin_records r"
               " ON r.plugin_id = c.plugin_id AND r.collection = c.collection"
               " WHERE c.plugin_id = :p0 AND c.collection = :p1 AND c.personal IS NOT NULL AND r.tenant_id = :p2"
               " AND r.id = :p3",
               {plugin_id, collection, tenant_id, id}, [&](const store::Row& r) {
                 out = SubjectDocument{plugin_id, collection, id, store::required_integer(r, 3),
                                       Json::parse(store::required_text(r, 2)),
                                       Json::parse(store::required_text(r, 0)).get<CollectionIndexes>(),
                                       PersonalData::from_json(Json::parse(store::required_text(r, 1)))};
               });
  return out;
}

bool erase_subject_document(store::Transaction& tx, const CallContext& ctx, const SubjectDocument& d, Timestamp now) {
  std::vector<store::SqlValue> key{ctx.tenant_id, d.plugin_id, d.collection, d.id};
  bool deleting = d.personal.on_erasure == "delete";
  Json after = deleting ? Json() : d.document;
  if (deleting) {
    delete_document(tx, key);
  } else {
    for (const auto& field : d.personal.fields) after.erase(field);
    store::execute(tx.session(),
                   "UPDATE plugin_records SET document = :p0, version = version + 1, updated_at = :p1"
                   " WHERE tenant_id = :p2 AND plugin_id = :p3 AND collection = :p4 AND id = :p5",
                   {to_json_text(after), now.micros, ctx.tenant_id, d.plugin_id, d.collection, d.id});
    index_document(tx, key, d.indexes, after);
  }
  Json record = deleting ? Json() : *stored_document(tx, key, d.collection);
  Change change = document_change("plugin_record.erased", d.key(), d.document, after, record, d.personal);
  // Like the kernel's own erasure: the old values stay in the audit trail alone, sealed
  // under the key the erasure destroys; the outbox gets the document as it now is.
  change.new_values_personal = false;
  change.event_carries_changes = false;
  change.at = now;
  commit_change(tx, ctx, change);
  return deleting;
}

}  // namespace nucleo::services
