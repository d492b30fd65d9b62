#include "kernel/services/change.hpp"

#include "kernel/domain/id.hpp"
#include "kernel/events/outbox.hpp"

namespace nucleo::services {

audit::AuditEvent audit_event(const CallContext& ctx, std::string action, std::string entity_type,
                              std::string entity_id, Timestamp at) {
  audit::AuditEvent e;
  e.id = generate_id(id_prefix::audit_event, at);
  e.tenant_id = ctx.tenant_id;
  e.recorded_at = at;
  e.actor = ctx.actor;
  e.action = std::move(action);
  e.entity_type = std::move(entity_type);
  e.entity_id = std::move(entity_id);
  e.request_id = ctx.request_id;
  e.source_ip = ctx.source_ip;
  e.reason = ctx.reason;
  return e;
}

namespace {

events::DomainEvent domain_event(const CallContext& ctx, const Change& change) {
  events::DomainEvent e;
  e.occurred_at = ctx.now();
  e.id = generate_id(id_prefix::domain_event, e.occurred_at);
  e.name = change.action;
  e.tenant_id = ctx.tenant_id;
  e.actor = ctx.actor;
  e.entity_type = change.entity_type;
  e.entity_id = change.entity_id;
  e.data = {{"record", change.record}};
  if (change.event_carries_changes) e.data["changes"] = change.changes;
  e.request_id = ctx.request_id;
  e.causation_id = ctx.causation_id;
  e.depth = ctx.depth;
  return e;
}

}  // namespace

std::string commit_change(store::Transaction& tx, const CallContext& ctx, const Change& change) {
  audit::AuditEvent e = audit_event(ctx, change.action, change.entity_type, change.entity_id,
                                    change.at.value_or(ctx.now()));
  e.changes = change.changes;
  e.personal_fields = change.personal_fields;
  e.subject_id = change.subject_id;
  e.new_values_personal = change.new_values_personal;
  e.subject_created = change.subject_created;
  audit::record_audit_event(tx, e);
  events::enqueue_event(tx, domain_event(ctx, change));
  return e.id;
}

}  // namespace nucleo::services
