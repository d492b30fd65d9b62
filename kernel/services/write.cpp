#include "kernel/services/write.hpp"

#include "kernel/services/idempotency_service.hpp"

#include "kernel/services/access_policy.hpp"
#include "kernel/services/auth_service.hpp"
#include "kernel/services/write_batch.hpp"
#include "kernel/store/record_table.hpp"

namespace nucleo::services {
namespace {

void throw_if_errors(const Write& w) {
  if (w.errors.empty()) return;
  throw validation_error("invalid " + w.spec.type, w.errors);
}

// Every reference the write sets must name a live record of the same tenant — and one
// the caller can see: a record hidden from them is answered as a read would be, 404,
// so a write cannot confirm that it exists (docs/api.md, "Roles and permissions").
void check_references(Write& w) {
  const Principal* caller = w.ctx.principal.get();
  for (const auto& f : w.spec.fields) {
    if (f.type != FieldType::reference || !w.changed(f.name)) continue;
    const Json& value = w.after[f.name];
    if (value.is_null()) continue;
    const EntitySpec& target_spec = entity_spec(f.target);
    store::RecordTable target(target_spec);
    const std::string& id = value.get_ref<const std::string&>();
    if (const WriteBatch* batch = WriteBatch::of(w.tx))
      if (auto live = batch->is_live(f.target, id)) {
        if (!*live) w.errors.push_back({f.name, "no live " + f.target + " " + id + " in this tenant"});
        continue;
      }
    if (caller && caller->restricted_to_owners && !owner_field(target_spec).empty()) {
      auto found = target.find(w.tx, w.ctx.tenant_id, id);
      if (found && !can_see(w.ctx, target_spec, *found))
        throw Error(ErrorCode::not_found, f.target + " " + id + " not found");
      if (found && found->value("archived_at", Json()).is_null()) continue;
    } else if (target.exists(w.tx, w.ctx.tenant_id, id, false)) {
      continue;
    }
    w.errors.push_back({f.name, "no live " + f.target + " " + id + " in this tenant"});
  }
}

bool differs_beyond_bookkeeping(const Json& before, const Json& after) {
  for (const auto& [field, value] : after.items()) {
    if (field == "version" || field == "updated_at") continue;
    if (before.value(field, Json()) != value) return true;
  }
  return false;
}

// The data subject of the record's personal fields (EntitySpec::data_subject_field).
std::string data_subject_of(const Write& w) {
  if (w.spec.data_subject_field.empty()) return w.id();
  const Json& subject = w.after.value(w.spec.data_subject_field, Json());
  return subject.is_string() ? subject.get<std::string>() : w.id();
}

// The change as the one door records it. Its time is the version's updated_at, so a
// record rebuilt from its history carries the updated_at it had.
Change change_of(const Write& w, const Json& changes, const Json& record, const AttributeSchemas& attributes) {
  Change c{w.action, w.spec.type, w.id(), changes, record};
  c.personal_fields = personal_fields_in(w.spec, changes, &attributes);
  c.subject_id = data_subject_of(w);
  c.subject_created = w.is_create() && c.subject_id == w.id();  // its id was made for this create
  c.at = parse_rfc3339(w.after.value("updated_at", "")).value_or(w.ctx.now());
  return c;
}

}  // namespace

std::vector<std::string> personal_fields_in(const EntitySpec& spec, const Json& changes,
                                            const AttributeSchemas* attributes) {
  std::vector<std::string> fields;
  for (const auto& f : spec.fields)
    if (f.personal && changes.contains(f.name)) fields.push_back(f.name);
  // An attribute declared personal makes the whole attributes change personal: the
  // audit leaf holds the object, not one key of it.
  if (attributes && changes.contains("attributes"))
    for (const auto& key : attributes->personal_keys(spec.type)) {
      const Json& change = changes["attributes"];
      auto holds = [&](const char* side) { return change.value(side, Json()).is_object() && change[side].contains(key); };
      if (holds("from") || holds("to")) {
        fields.push_back("attributes");
        break;
      }
    }
  return fields;
}

void bump_version(Write& w) {
  w.after["version"] = w.before.at("version").get<std::int64_t>() + 1;
  w.after["updated_at"] = format_rfc3339(w.ctx.now());
}

std::optional<Timestamp> source_time(Write& w, const Json& value, const std::string& field) {
  if (value.is_null()) return std::nullopt;
  auto at = value.is_string() ? parse_rfc3339(value.get<std::string>()) : std::nullopt;
  if (!at || at->micros < 0) {
    w.errors.push_back({field, "must be an RFC 3339 time (2016-10-20T00:00:00Z) or a column with a \"date\" pattern"});
    return std::nullopt;
  }
  if (at->micros > w.ctx.now().micros) {
    w.errors.push_back({field, "is in the future: history is what already happened"});
    return std::nullopt;
  }
  return at;
}

std::optional<Timestamp> source_time(Write& w, const std::string& field) {
  const Json& history = w.ctx.source_history;
  return history.is_object() ? source_time(w, history.value(field, Json()), field) : std::nullopt;
}

Json visible_record(const EntitySpec& spec, Json record) {
  for (const auto& f : spec.fields)
    if (f.hidden) record.erase(f.name);
  return record;
}

WriteResult run_write(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec, std::string action,
                      const std::string& id, std::optional<std::int64_t> expected_version,
                      const std::function<void(Write&)>& change) {
  require_permission(ctx, spec, Operation::write);
  WriteResult result = deps.database.write(ctx.tenant_id, [&](store::Transaction& tx) {
    if (ctx.write_once)
      if (auto answered = IdempotencyService::replay_in(tx, ctx)) return WriteResult{*answered};
    store::RecordTable table(spec);
    Write w{ctx, tx, spec, deps.normalisation, std::move(action), Json(), Json(), Json::array(), {}};
    if (!id.empty()) {
      auto found = table.find(tx, ctx.tenant_id, id);
      // A record the caller may not see is indistinguishable from one that does not exist.
      if (!found || !can_see(ctx, spec, *found)) throw Error(ErrorCode::not_found, spec.type + " " + id + " not found");
      w.before = std::move(*found);
      std::int64_t stored = w.before.at("version").get<std::int64_t>();
      if (expected_version && *expected_version != stored)
        throw Error(ErrorCode::precondition_failed, spec.type + " " + id + " is at version " + std::to_string(stored) +
                                                        ", not " + std::to_string(*expected_version));
    }
    change(w);
    if (!w.is_create() && !differs_beyond_bookkeeping(w.before, w.after))
      return WriteResult{visible_record(spec, w.before), Json::array(), true};  // nothing changed: nothing to record

    check_references(w);
    if (const auto& rules = rules_for(spec.type); rules.before_save) rules.before_save(w);
    throw_if_errors(w);
    if (spec.has_attributes)
      if (auto problems = deps.attribute_schemas.check(spec.type, w.after.value("attributes", Json::object()));
          !problems.empty())
        throw Error(ErrorCode::validation, "invalid attributes of " + spec.type, std::move(problems));
    std::vector<ValidationNote> notes;
    deps.validators.run({ctx, w.action, spec.type, w.before, w.after, tx, &notes});

    if (w.is_create()) {
      table.insert(tx, w.after);
      if (WriteBatch* batch = WriteBatch::of(tx)) batch->created(spec.type, w.id());
    } else if (!table.update(tx, w.after, w.before.at("version").get<std::int64_t>())) {
      throw Error(ErrorCode::aborted, spec.type + " " + id + " was changed by another request; reload and retry");
    }
    if (const auto& rules = rules_for(spec.type); rules.after_save) rules.after_save(w);
    throw_if_errors(w);

    Json shown = visible_record(spec, w.after);
    Json changes = audit::diff_changes(w.is_create() ? Json() : visible_record(spec, w.before), shown);
    commit_change(tx, ctx, change_of(w, changes, shown, deps.attribute_schemas));
    for (auto& note : notes) commit_change(tx, ctx, {note.action, spec.type, w.id(), std::move(note.changes), shown});
    if (ctx.write_once) IdempotencyService::remember_in(tx, ctx, shown);
    return WriteResult{shown, w.duplicates};
  });
  // Committed: callers authenticated before it must be looked up again (ADR 0008).
  if (spec.policy.defines_access) note_access_changed();
  return result;
}

}  // namespace nucleo::services
