#include "kernel/audit/recorder.hpp"

#include "kernel/audit/personal_data.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::audit {
namespace {

store::SqlValue optional_text(const std::string& s) {
  return s.empty() ? store::SqlValue{} : store::SqlValue{s};
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
  Json personal = Json::array();
  for (const auto& f : e.personal_fields) personal.push_back(f);
  const std::string& subject = e.subject_id.empty() ? e.entity_id : e.subject_id;
  bool creates_its_own_subject = subject == e.entity_id && e.changes.contains("id");  // a create's diff has the id
  Json changes = e.personal_fields.empty()
                     ? e.changes
                     : seal_personal_values(tx, e.tenant_id, subject, e.id, e.changes, e.personal_fields,
                                            e.recorded_at, e.new_values_personal, creates_its_own_subject);
  store::execute(
      tx.session(),
      "INSERT INTO audit_pending (id, tenant_id, recorded_at, actor_type, actor_id, on_behalf_of, action,"
      " entity_type, entity_id, request_id, source_ip, reason, changes, personal_fields)"
      " VALUES (:p0, :p1, :p2, :p3, :p4, :p5, :p6, :p7, :p8, :p9, :p10, :p11, :p12, :p13)",
      {e.id, e.tenant_id, e.recorded_at.micros, e.actor.type, e.actor.id, optional_text(e.actor.on_behalf_of), e.action,
       e.entity_type, e.entity_id, optional_text(e.request_id), optional_text(e.source_ip), optional_text(e.reason),
       changes.dump(), personal.dump()});
}

}  // namespace nucleo::audit
