#include "kernel/audit/recorder.hpp"

#include "kernel/audit/personal_data.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::audit {
namespace {

store::SqlValue optional_text(const std::string& s) {
  return s.empty() ? store::SqlValue{} : store::SqlValue{s};
}

// Nothing enters audit_pending that the sequencer could not turn into a leaf: a
// pending event it cannot sequence would stall the tenant's log (and PostgreSQL's
// text columns refuse NUL and invalid UTF-8 anyway). The HTTP edge refuses such
// input with a 400 first; this is the fence behind it, for every other caller.
void require_leaf_text(const std::string& value, const char* field) {
  if (!is_valid_utf8(value) || value.find('\0') != std::string::npos)
    throw Error(ErrorCode::validation, std::string("the audit event's ") + field +
                                           " is not UTF-8 text without NUL characters",
                {{field, "must be UTF-8 text without NUL characters"}});
}

std::string changes_text(const Json& changes) {
  try {
    return changes.dump();
  } catch (const Json::type_error&) {  // 316: a string that is not UTF-8
    throw Error(ErrorCode::validation, "a changed value is not valid UTF-8", {{"changes", "must be UTF-8 text"}});
  }
}

}  // namespace

Json diff_changes(const Json& before, const Json& after) {
  Json changes = Json::object();
  for (const auto& [field, to] : after.items()) {
    if (field == "version" || field == "updated_at") continue;
    Json from = before.is_object() ? before.value(field, Json()) : Json();
    if (from != to) changes[field] = {{"from", from}, {"to", to}};
  }
  if (before.is_object()) {
    for (const auto& [field, from] : before.items())
      if (!after.contains(field) && !from.is_null()) changes[field] = {{"from", from}, {"to", nullptr}};
  }
  return changes;
}

void record_audit_event(store::Transaction& tx, const AuditEvent& e) {
  for (auto [value, field] : {std::pair{&e.reason, "reason"}, {&e.request_id, "request_id"}, {&e.source_ip, "source_ip"},
                              {&e.actor.id, "actor.id"}, {&e.actor.on_behalf_of, "actor.on_behalf_of"},
                              {&e.entity_id, "entity.id"}, {&e.action, "action"}})
    require_leaf_text(*value, field);
  Json personal = Json::array();
  for (const auto& f : e.personal_fields) personal.push_back(f);
  const std::string& subject = e.subject_id.empty() ? e.entity_id : e.subject_id;
  KnownKey known = e.subject_created                                          ? KnownKey::certainly_new
                   : subject == e.entity_id && e.changes.contains("id") ? KnownKey::probably_new  // a create's diff has the id
                                                                        : KnownKey::probably_exists;
  Json changes = e.personal_fields.empty()
                     ? e.changes
                     : seal_personal_values(tx, e.tenant_id, subject, e.id, e.changes, e.personal_fields,
                                            e.recorded_at, e.new_values_personal, known);
  tx.announce(store::Work::audit);
  tx.append("audit_pending",
            "(id, tenant_id, recorded_at, actor_type, actor_id, on_behalf_of, action, entity_type, entity_id,"
            " request_id, source_ip, reason, changes, personal_fields)",
            {e.id, e.tenant_id, e.recorded_at.micros, e.actor.type, e.actor.id, optional_text(e.actor.on_behalf_of),
             e.action, e.entity_type, e.entity_id, optional_text(e.request_id), optional_text(e.source_ip),
             optional_text(e.reason), changes_text(changes), personal.dump()});
}

}  // namespace nucleo::audit
