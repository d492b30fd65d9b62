#include "kernel/services/record_service.hpp"

#include "kernel/services/consent_service.hpp"

#include "kernel/services/audited_reads.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/services/access_policy.hpp"
#include "kernel/services/search.hpp"
#include "kernel/services/write.hpp"

namespace nucleo::services {
namespace {

// Every entity's own fields start from the stored record; the caller's changes are
// laid over them, and `attributes` merge key by key (RFC 7396: null removes a key).
void apply_changes(Write& w, const Json& changes) {
  w.after = w.before;
  for (const auto& [field, value] : changes.items()) {
    if (field == "attributes" && w.after["attributes"].is_object())
      w.after["attributes"].merge_patch(value);
    else
      w.after[field] = value;
  }
}

std::string action_name(const EntitySpec& spec, const std::string& verb) {
  return spec.type + "." + verb;
}

}  // namespace

WriteResult RecordService::create(const CallContext& ctx, std::string_view type, const Json& input) {
  const EntitySpec& spec = entity_spec(type);
  require_permission(ctx, spec, Operation::write);
  Json fields = validate_record_input(spec, input, WriteMode::create, deps_.normalisation);
  // A record someone creates is theirs unless they say otherwise.
  if (std::string owner = owner_field(spec); !owner.empty() && fields[owner].is_null() && !input.contains(owner) &&
                                             ctx.principal && !ctx.principal->user_id.empty())
    fields[owner] = ctx.principal->user_id;
  const std::string& verb = spec.policy.created_verb;
  return run_write(deps_, ctx, spec, action_name(spec, verb), "", std::nullopt, [&](Write& w) {
    Timestamp now = ctx.now();
    w.after = fields;
    w.after["id"] = generate_id(spec.prefix, now);
    w.after["tenant_id"] = ctx.tenant_id;
    w.after["version"] = 1;
    w.after["created_at"] = w.after["updated_at"] = format_rfc3339(now);
    w.after["archived_at"] = nullptr;
    // Another system's record keeps when it was created there (an import, ADR 0045).
    if (auto created = source_time(w, "created_at"))
      w.after["created_at"] = format_rfc3339(*created);
  });
}

WriteResult RecordService::update(const CallContext& ctx, std::string_view type, const std::string& id,
                                  const Json& patch, std::optional<std::int64_t> expected_version) {
  const EntitySpec& spec = entity_spec(type);
  if (!patch.is_object())
    throw Error(ErrorCode::validation, "the body must be a JSON object", {{"", "must be an object"}});
  return run_write(deps_, ctx, spec, action_name(spec, "updated"), id, expected_version, [&](Write& w) {
    if (!w.before["archived_at"].is_null())
      throw Error(ErrorCode::conflict, spec.type + " " + id + " is archived; restore it before changing it");
    apply_changes(w, validate_record_input(spec, patch, WriteMode::update, deps_.normalisation, w.before));
    bump_version(w);
  });
}

WriteResult RecordService::archive(const CallContext& ctx, std::string_view type, const std::string& id,
                                   std::optional<std::int64_t> expected_version) {
  const EntitySpec& spec = entity_spec(type);
  return run_write(deps_, ctx, spec, action_name(spec, "archived"), id, expected_version, [&](Write& w) {
    w.after = w.before;
    if (w.before["archived_at"].is_null()) {
      w.after["archived_at"] = format_rfc3339(ctx.now());
      bump_version(w);
    }
  });
}

WriteResult RecordService::restore(const CallContext& ctx, std::string_view type, const std::string& id,
                                   std::optional<std::int64_t> expected_version) {
  const EntitySpec& spec = entity_spec(type);
  return run_write(deps_, ctx, spec, action_name(spec, "restored"), id, expected_version, [&](Write& w) {
    w.after = w.before;
    // A merged record's dependents live on in the survivor: bringing it back would
    // split them again (and, for an account, could collide with the survivor's tax id).
    if (w.before.value("merged_into", Json()).is_string())
      throw Error(ErrorCode::conflict, spec.type + " " + id + " was merged into " +
                                           w.before["merged_into"].get<std::string>() + " and cannot be restored");
    if (!w.before["archived_at"].is_null()) {
      w.after["archived_at"] = nullptr;
      bump_version(w);
    }
  });
}

WriteResult RecordService::move_deal_stage(const CallContext& ctx, const std::string& deal_id,
                                           const std::string& stage_id, std::optional<std::int64_t> expected_version,
                                           const std::string& lost_reason) {
  Json patch = {{"stage_id", stage_id}};
  if (!lost_reason.empty()) patch["lost_reason"] = lost_reason;
  return update(ctx, "deal", deal_id, patch, expected_version);
}

Json RecordService::deal_gate(const CallContext& ctx, const std::string& deal_id, const std::string& stage_id) {
  GateEvaluator evaluate = deps_.validators.gate_evaluator();
  if (!evaluate) throw Error(ErrorCode::unavailable, "this kernel runs no stage gates");
  Json deal = get(ctx, "deal", deal_id);  // 404 unless the caller sees it
  return deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) { return evaluate(tx, ctx, deal, stage_id); });
}

WriteResult RecordService::approve_deal_move(const CallContext& ctx, const std::string& deal_id,
                                             const std::string& stage_id, const std::string& note,
                                             std::optional<std::int64_t> expected_version) {
  const Principal* who = ctx.principal.get();
  if (!who || who->user_id.empty())
    throw Error(ErrorCode::validation, "an approval is given by a person: call with a user's key or On-Behalf-Of",
                {{"approver", "the caller acts as no user", "approver_unknown"}});
  if (note.size() > 1000)
    throw Error(ErrorCode::validation, "the note is too long", {{"note", "must be at most 1000 characters"}});
  return run_write(deps_, ctx, entity_spec("deal"), "deal.approved", deal_id, expected_version, [&](Write& w) {
    if (!w.before["archived_at"].is_null())
      throw Error(ErrorCode::validation, "deal " + deal_id + " is archived; restore it first");
    w.after = w.before;
    Json approvals = w.before.value("approvals", Json::array());
    std::string entered = w.before.value("stage_entered_at", "");
    for (const auto& a : approvals)
      if (a.value("stage_id", "") == stage_id && a.value("user_id", "") == who->user_id &&
          parse_rfc3339(a.value("at", "")) >= parse_rfc3339(entered))
        return;  // already approved while the deal sits where it is
    approvals.push_back({{"stage_id", stage_id},
                         {"user_id", who->user_id},
                         {"role", who->role},
                         {"at", format_rfc3339(ctx.now())},
                         {"note", note.empty() ? Json() : Json(note)}});
    // The newest approvals are the ones a move can use; older ones stay in the audit trail.
    constexpr std::size_t kept = 50;
    if (approvals.size() > kept) approvals.erase(approvals.begin(), approvals.end() - kept);
    w.after["approvals"] = std::move(approvals);
    bump_version(w);
  });
}

WriteResult RecordService::set_deal_stall(const CallContext& ctx, const std::string& deal_id,
                                          std::optional<Timestamp> since, std::optional<std::int64_t> expected_version) {
  std::string action = since ? "deal.stalled" : "deal.stall_cleared";
  return run_write(deps_, ctx, entity_spec("deal"), action, deal_id, expected_version, [&](Write& w) {
    w.after = w.before;
    Json value = since ? Json(format_rfc3339(*since)) : Json();
    if (w.before.value("stalled_since", Json()) == value) return;
    w.after["stalled_since"] = value;
    bump_version(w);
  });
}

WriteResult RecordService::complete_task(const CallContext& ctx, const std::string& task_id,
                                         std::optional<std::int64_t> expected_version) {
  return update(ctx, "task", task_id, {{"status", "done"}}, expected_version);
}

void record_sensitive_reads(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec,
                            const std::vector<const Json*>& records) {
  std::vector<audit::AuditEvent> events;
  Timestamp now = ctx.now();
  for (const Json* record : records) {
    auto parts = deps.sensitive.disclosed(spec.type, *record);
    if (parts.empty()) continue;
    audit::AuditEvent e = audit_event(ctx, spec.type + ".sensitive_read", spec.type, record->at("id"), now);
    e.changes = {{"disclosed", {{"from", nullptr}, {"to", parts}}}};
    events.push_back(std::move(e));
  }
  record_read_events(deps, ctx.tenant_id, std::move(events));
}

namespace {

// The same for rendered pages: the ids suffice for a sensitive type; attribute marks
// need each record's attributes.
void record_sensitive_reads(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec,
                            const std::vector<store::RenderedRecord>& rows) {
  if (!deps.sensitive.marks(spec.type) || rows.empty()) return;
  bool parse = deps.sensitive.needs_attributes(spec.type);
  std::vector<Json> records;
  records.reserve(rows.size());
  for (const auto& r : rows) records.push_back(parse ? Json::parse(r.json) : Json{{"id", r.id}});
  std::vector<const Json*> pointers;
  for (const auto& r : records) pointers.push_back(&r);
  record_sensitive_reads(deps, ctx, spec, pointers);
}

}  // namespace

Json RecordService::get(const CallContext& ctx, std::string_view type, const std::string& id) {
  const EntitySpec& spec = entity_spec(type);
  require_permission(ctx, spec, Operation::read);
  auto found = deps_.database.read(
      ctx.tenant_id, [&](store::Transaction& tx) { return store::RecordTable(spec).find(tx, ctx.tenant_id, id); });
  // A record the caller may not see is indistinguishable from one that does not exist.
  if (!found || !can_see(ctx, spec, *found)) throw Error(ErrorCode::not_found, spec.type + " " + id + " not found");
  Json record = visible_record(spec, std::move(*found));
  if (deps_.sensitive.marks(spec.type)) record_sensitive_reads(deps_, ctx, spec, {&record});
  return record;
}

std::vector<Json> RecordService::list(const CallContext& ctx, std::string_view type, store::RecordQuery query) {
  const EntitySpec& spec = entity_spec(type);
  require_permission(ctx, spec, Operation::read);
  restrict_to_visible(ctx, spec, query);
  store::OnPrimary audited(deps_.sensitive.marks(spec.type));
  auto rows = deps_.database.read(
      ctx.tenant_id, [&](store::Transaction& tx) { return store::RecordTable(spec).list(tx, ctx.tenant_id, query); });
  for (auto& r : rows) r = visible_record(spec, std::move(r));
  if (deps_.sensitive.marks(spec.type)) {
    std::vector<const Json*> pointers;
    for (const auto& r : rows) pointers.push_back(&r);
    record_sensitive_reads(deps_, ctx, spec, pointers);
  }
  return rows;
}

std::vector<store::RenderedRecord> RecordService::list_rendered(const CallContext& ctx, std::string_view type,
                                                                store::RecordQuery query) {
  const EntitySpec& spec = entity_spec(type);
  require_permission(ctx, spec, Operation::read);
  restrict_to_visible(ctx, spec, query);
  store::OnPrimary audited(deps_.sensitive.marks(spec.type));
  auto rows = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    return store::RecordTable(spec).list_rendered(tx, ctx.tenant_id, query);
  });
  record_sensitive_reads(deps_, ctx, spec, rows);
  return rows;
}

namespace {

constexpr std::size_t max_batch_operations = 100;

void check_batch_shape(const Json& operations) {
  if (!operations.is_array() || operations.empty() || operations.size() > max_batch_operations)
    throw Error(ErrorCode::validation, "operations must be an array of 1 to 100 items",
                {{"operations", "must hold 1 to 100 items"}});
}

}  // namespace

std::vector<RecordService::BatchItem> RecordService::batch(const CallContext& ctx, std::string_view type,
                                                           const Json& operations, bool atomic) {
  check_batch_shape(operations);
  auto apply = [&](const Json& op, std::size_t index) -> BatchItem {
    std::string where = "operations[" + std::to_string(index) + "]";
    std::string method = op.is_object() ? op.value("method", "") : "";
    const Json& data = op.is_object() ? op.value("data", Json()) : Json();
    if (method == "create") return {BatchOutcome::created, create(ctx, type, data), std::nullopt};
    if (method == "update") {
      if (!op.value("id", Json()).is_string())
        throw Error(ErrorCode::validation, where + ".id is required", {{where + ".id", "is required"}});
      std::optional<std::int64_t> version;
      if (op.contains("version")) {
        if (!op["version"].is_number_integer())
          throw Error(ErrorCode::validation, where + ".version must be an integer",
                      {{where + ".version", "must be an integer"}});
        version = op["version"].get<std::int64_t>();
      }
      return {BatchOutcome::updated, update(ctx, type, op["id"].get<std::string>(), data, version), std::nullopt};
    }
    throw Error(ErrorCode::validation, where + ".method must be create or update",
                {{where + ".method", "must be create or update"}});
  };

  std::vector<BatchItem> items(operations.size());
  if (!atomic) {
    for (std::size_t i = 0; i < operations.size(); ++i) {
      try {
        items[i] = apply(operations[i], i);
      } catch (const Error& e) {
        items[i] = {BatchOutcome::failed, std::nullopt, e};
      }
    }
    return items;
  }

  std::size_t failed = operations.size();
  try {
    deps_.database.in_one_transaction(ctx.tenant_id, [&] {
      for (std::size_t i = 0; i < operations.size(); ++i) {
        failed = i;
        items[i] = apply(operations[i], i);
      }
      failed = operations.size();
    });
  } catch (const Error& e) {
    for (std::size_t i = 0; i < operations.size(); ++i) {
      if (i == failed)
        items[i] = {BatchOutcome::failed, std::nullopt, e};
      else
        items[i] = {BatchOutcome::not_applied, std::nullopt,
                    Error(ErrorCode::aborted, "not applied: operation " + std::to_string(failed) + " failed")};
    }
  }
  return items;
}

RecordService::SearchPage RecordService::search(const CallContext& ctx, std::string_view type, const Json& body,
                                                const Json& after, std::size_t max_limit,
                                                std::optional<std::size_t> scan_limit) {
  const EntitySpec& spec = entity_spec(type);
  require_permission(ctx, spec, Operation::read);
  store::SearchQuery query = parse_search(spec, body, max_limit);
  store::RecordQuery visibility;
  restrict_to_visible(ctx, spec, visibility);
  query.owner_field = visibility.owner_field;
  query.visible_owners = visibility.visible_owners;
  query.scan_limit = scan_limit.value_or(deps_.search_scan_rows);
  if (after.is_array() && after.size() == 2 && after[1].is_string()) {
    query.after_id = after[1];
    query.after_sort_value = after[0].is_number_integer() ? store::SqlValue{after[0].get<std::int64_t>()}
                             : after[0].is_string()       ? store::SqlValue{after[0].get<std::string>()}
                                                          : store::SqlValue{};
  }
  std::size_t page = query.limit;
  query.limit = page + 1;
  store::RecordTable table(spec);
  std::vector<std::string> purposes;  // consent.<purpose> filters name purposes the tenant must know
  for (const auto& group : query.groups)
    for (const auto& filter : group)
      if (filter.field.rfind("consent.", 0) == 0) purposes.push_back(filter.field.substr(8));
  store::OnPrimary audited(deps_.sensitive.marks(spec.type));
  auto found = deps_.database.read(ctx.tenant_id, [&](store::Transaction& tx) {
    for (const auto& purpose : purposes) require_known_purpose(tx, ctx.tenant_id, purpose, "filter_groups");
    return table.search_rendered(tx, ctx.tenant_id, query);
  });
  auto& rows = found.rows;
  auto cursor = [](const store::SqlValue& v, const std::string& id) {
    Json value = std::holds_alternative<std::int64_t>(v)  ? Json(std::get<std::int64_t>(v))
                 : std::holds_alternative<std::string>(v) ? Json(std::get<std::string>(v))
                                                          : Json();
    return Json::array({value, id});
  };
  SearchPage result;
  if (rows.size() > page) {
    rows.resize(page);
    const store::RenderedRecord& last = rows.back();
    result.next = cursor(store::to_column(table.column_type(query.sort_field), last.sort_value), last.id);
  } else if (found.scanned_to) {
    // The bounded scan stopped short of the end: the next page reads on from there.
    result.next = cursor(found.scanned_to->first, found.scanned_to->second);
  }
  record_sensitive_reads(deps_, ctx, spec, rows);
  for (auto& r : rows) result.records.push_back(std::move(r.json));
  return result;
}

}  // namespace nucleo::services
