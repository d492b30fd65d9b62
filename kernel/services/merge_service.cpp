#include "kernel/services/merge_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "kernel/services/access_policy.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/write.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::services {
namespace {

struct MergeRequest {
  std::vector<std::string> from;
  std::map<std::string, std::string> fields;  // field or "attributes.<key>" → the id to take it from
};

bool is_merge_field(const EntitySpec& spec, const std::string& name) {
  if (name.rfind("attributes.", 0) == 0) return name.size() > 11 && spec.has_attributes;
  const FieldSpec* f = spec.field(name);
  return f && !f->derived && !f->hidden;
}

MergeRequest parse_request(const EntitySpec& spec, const std::string& survivor_id, const Json& body) {
  if (!body.is_object())
    throw Error(ErrorCode::validation, "the body must be a JSON object", {{"", "must be an object"}});
  std::vector<FieldError> errors;
  MergeRequest r;
  for (const auto& [key, value] : body.items())
    if (key != "from" && key != "fields") errors.push_back({key, "is not a field of a merge (from, fields)"});
  const Json& from = body.value("from", Json());
  if (!from.is_array() || from.empty() || from.size() > MergeService::max_merged) {
    errors.push_back({"from", "must be an array of 1 to " + std::to_string(MergeService::max_merged) + " " +
                                  spec.type + " ids"});
  } else {
    for (std::size_t i = 0; i < from.size(); ++i) {
      std::string at = "from[" + std::to_string(i) + "]";
      if (!from[i].is_string()) errors.push_back({at, "must be a " + spec.type + " id"});
      else if (from[i] == survivor_id) errors.push_back({at, "is the record merged into: a record cannot merge into itself"});
      else if (std::find(r.from.begin(), r.from.end(), from[i].get<std::string>()) != r.from.end())
        errors.push_back({at, "is listed twice"});
      else r.from.push_back(from[i].get<std::string>());
    }
  }
  const Json& fields = body.value("fields", Json::object());
  if (!fields.is_object()) errors.push_back({"fields", "must be an object: {field: the id of the record to take it from}"});
  else
    for (const auto& [name, source] : fields.items()) {
      std::string at = "fields." + name;
      if (!is_merge_field(spec, name))
        errors.push_back({at, "is not a field a merge can choose (a " + spec.type + " field or attributes.<key>)"});
      else if (!source.is_string() ||
               (source != survivor_id && std::find(r.from.begin(), r.from.end(), source.get<std::string>()) == r.from.end()))
        errors.push_back({at, "must name the survivor or one of the merged records"});
      else r.fields[name] = source.get<std::string>();
    }
  if (!errors.empty()) throw Error(ErrorCode::validation, "invalid merge", errors);
  return r;
}

bool is_empty(const Json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

// What the survivor becomes (as an update's patch): the values `fields` chooses, each field
// it lacks filled from the first merged record holding one, lists joined, attribute keys it
// lacks added. A tax id travels with its country.
Json survivor_patch(const EntitySpec& spec, const Json& survivor, const std::vector<Json>& merged,
                    const std::map<std::string, std::string>& chosen) {
  auto record = [&](const std::string& id) -> const Json& {
    for (const auto& m : merged)
      if (m["id"] == id) return m;
    return survivor;
  };
  std::map<std::string, const Json*> source;  // field → the record its value comes from
  for (const auto& f : spec.fields) {
    if (f.derived || f.hidden) continue;
    if (auto c = chosen.find(f.name); c != chosen.end()) {
      source[f.name] = &record(c->second);
      continue;
    }
    if (f.type == FieldType::email_list || f.type == FieldType::phone_list || !is_empty(survivor.value(f.name, Json())))
      continue;
    for (const auto& m : merged)
      if (!is_empty(m.value(f.name, Json()))) {
        source[f.name] = &m;
        break;
      }
  }
  if (source.count("tax_id") && !chosen.count("tax_id_country")) source["tax_id_country"] = source["tax_id"];

  Json patch = Json::object();
  for (const auto& [field, from] : source)
    if (from->value(field, Json()) != survivor.value(field, Json())) patch[field] = from->value(field, Json());
  for (const auto& f : spec.fields) {
    if ((f.type != FieldType::email_list && f.type != FieldType::phone_list) || chosen.count(f.name)) continue;
    Json joined = survivor.value(f.name, Json::array());
    for (const auto& m : merged)
      for (const auto& item : m.value(f.name, Json::array()))
        if (std::find(joined.begin(), joined.end(), item) == joined.end()) joined.push_back(item);
    if (joined != survivor.value(f.name, Json::array())) patch[f.name] = joined;
  }

  const Json& kept = survivor.value("attributes", Json::object());
  Json attributes = Json::object();
  for (const auto& m : merged) {
    const Json their = m.value("attributes", Json::object());
    for (const auto& [key, value] : their.items())
      if (!kept.contains(key) && !attributes.contains(key)) attributes[key] = value;
  }
  for (const auto& [name, id] : chosen) {
    if (name.rfind("attributes.", 0) != 0) continue;
    std::string key = name.substr(11);
    Json value = record(id).value("attributes", Json::object()).value(key, Json());
    if (value != kept.value(key, Json())) attributes[key] = value;  // null removes it
  }
  if (!attributes.empty()) patch["attributes"] = attributes;
  return patch;
}

std::vector<std::string> ids_where(store::Transaction& tx, const std::string& table, const std::string& column,
                                   const std::string& tenant_id, const std::string& value) {
  std::vector<std::string> ids;
  store::query(tx.session(), "SELECT id FROM " + table + " WHERE tenant_id = :p0 AND " + column + " = :p1 ORDER BY id",
               {tenant_id, value}, [&](const store::Row& r) { ids.push_back(store::required_text(r, 0)); });
  return ids;
}

// The committee with the merged contact replaced by the survivor — once: where both sat
// on it, the survivor's place stays and takes the merged one's role if it had none.
Json committee_with(const Json& contacts, const std::string& merged_id, const std::string& survivor_id) {
  Json out = Json::array();
  Json merged_role;
  for (const auto& c : contacts)
    if (c.value("contact_id", "") == merged_id) merged_role = c.value("role", Json());
  bool placed = false;
  for (const auto& c : contacts) {
    std::string id = c.value("contact_id", "");
    if (id != merged_id && id != survivor_id) {
      out.push_back(c);
      continue;
    }
    if (placed) continue;
    Json place = {{"contact_id", survivor_id}, {"role", c.value("role", Json())}};
    if (place["role"].is_null()) place["role"] = merged_role;
    out.push_back(place);
    placed = true;
  }
  return out;
}

class Merge {
 public:
  Merge(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec, std::string survivor_id)
      : deps_(deps), ctx_(ctx), spec_(spec), survivor_id_(std::move(survivor_id)) {}

  Json visible(store::Transaction& tx, const std::string& id) {
    auto found = store::RecordTable(spec_).find(tx, ctx_.tenant_id, id);
    if (!found || !can_see(ctx_, spec_, *found)) throw Error(ErrorCode::not_found, spec_.type + " " + id + " not found");
    return std::move(*found);
  }

  // A record of the merge: live, visible to the caller.
  Json load(store::Transaction& tx, const std::string& id) {
    Json record = visible(tx, id);
    if (record.value("merged_into", Json()).is_string())
      throw Error(ErrorCode::conflict,
                  spec_.type + " " + id + " was already merged into " + record["merged_into"].get<std::string>());
    if (!record["archived_at"].is_null())
      throw Error(ErrorCode::conflict, spec_.type + " " + id + " is archived; restore it before merging");
    return record;
  }

  void archive_as_merged(const std::string& id) {
    run_write(deps_, ctx_, spec_, spec_.type + ".merged", id, std::nullopt, [&](Write& w) {
      w.after = w.before;
      w.after["archived_at"] = format_rfc3339(ctx_.now());
      w.after["merged_into"] = survivor_id_;
      bump_version(w);
    });
  }

  // One dependent record changed through the one door (archived ones too: their history
  // follows the survivor as well).
  void reassign(const std::string& type, const std::string& id, const std::function<void(Json&)>& edit) {
    run_write(deps_, ctx_, entity_spec(type), type + ".updated", id, std::nullopt, [&](Write& w) {
      w.after = w.before;
      edit(w.after);
      if (w.after != w.before) bump_version(w);
    });
  }

  void move_references(store::Transaction& tx, const std::string& table, const std::string& column,
                       const std::string& merged_id) {
    const std::string type = table.substr(0, table.size() - 1);  // "tasks" holds tasks
    for (const auto& id : ids_where(tx, table, column, ctx_.tenant_id, merged_id))
      reassign(type, id, [&](Json& r) { r[column] = survivor_id_; });
  }

  void move_dependents(store::Transaction& tx, const std::string& merged_id) {
    if (spec_.type == "account") {
      for (const char* table : {"contacts", "deals", "interactions", "tasks"}) move_references(tx, table, "account_id", merged_id);
      return;
    }
    for (const char* table : {"interactions", "tasks"}) move_references(tx, table, "contact_id", merged_id);
    for (const auto& id : deals_naming(tx, ctx_.tenant_id, merged_id))
      reassign("deal", id, [&](Json& d) { d["contacts"] = committee_with(d["contacts"], merged_id, survivor_id_); });
    ConversationService(deps_).merge_conversations(ctx_, merged_id, survivor_id_);
  }

 private:
  ServiceDependencies& deps_;
  const CallContext& ctx_;
  const EntitySpec& spec_;
  std::string survivor_id_;
};

}  // namespace

std::vector<std::string> deals_naming(store::Transaction& tx, const std::string& tenant_id, const std::string& contact_id) {
  std::vector<std::string> ids;
  bool postgresql = tx.backend() == store::Backend::postgresql;
  std::string sql =
      postgresql ? "SELECT id FROM deals WHERE tenant_id = :p0 AND contacts @> CAST(:p1 AS jsonb) ORDER BY id"
                 : "SELECT id FROM deals WHERE tenant_id = :p0 AND EXISTS (SELECT 1 FROM json_each(deals.contacts)"
                   " WHERE json_extract(json_each.value, '$.contact_id') = :p1) ORDER BY id";
  store::SqlValue named = postgresql ? Json::array({{{"contact_id", contact_id}}}).dump() : contact_id;
  store::query(tx.session(), sql, {tenant_id, named}, [&](const store::Row& r) { ids.push_back(store::required_text(r, 0)); });
  return ids;
}


WriteResult MergeService::merge(const CallContext& ctx, std::string_view type, const std::string& survivor_id,
                                const Json& body, std::optional<std::int64_t> expected_version) {
  if (type != "contact" && type != "account")
    throw Error(ErrorCode::internal, "only contacts and accounts merge, not " + std::string(type));
  const EntitySpec& spec = entity_spec(type);
  require_role(ctx, {"admin", "manager", "integration"}, "merging " + spec.table + " is for admins and managers",
               spec.table + ":write");
  require_permission(ctx, spec, Operation::write);
  MergeRequest request;
  try {
    request = parse_request(spec, survivor_id, body);
  } catch (const Error&) {
    // A survivor the caller cannot see is not found, whatever the body says.
    deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { Merge(deps_, ctx, spec, survivor_id).visible(tx, survivor_id); });
    throw;
  }
  return deps_.database.in_one_transaction(ctx.tenant_id, [&] {
    return deps_.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
      Merge merge(deps_, ctx, spec, survivor_id);
      Json survivor = merge.load(tx, survivor_id);
      std::int64_t version = survivor.at("version").get<std::int64_t>();
      if (expected_version && *expected_version != version)
        throw Error(ErrorCode::precondition_failed, spec.type + " " + survivor_id + " is at version " +
                                                        std::to_string(version) + ", not " +
                                                        std::to_string(*expected_version));
      std::vector<Json> merged;
      for (const auto& id : request.from) merged.push_back(merge.load(tx, id));
      // Archived first: the survivor may then take what only one live record may hold (a tax id).
      for (const auto& id : request.from) merge.archive_as_merged(id);
      for (const auto& id : request.from) merge.move_dependents(tx, id);
      Json patch = survivor_patch(spec, survivor, merged, request.fields);
      if (patch.empty()) return WriteResult{visible_record(spec, survivor)};
      return RecordService(deps_).update(ctx, type, survivor_id, patch);
    });
  });
}

}  // namespace nucleo::services
