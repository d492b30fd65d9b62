#include "kernel/events/outbox.hpp"

#include "kernel/store/sql.hpp"

namespace nucleo::events {

Json DomainEvent::envelope() const {
  return {{"id", id},
          {"name", name},
          {"tenant_id", tenant_id},
          {"occurred_at", format_rfc3339(occurred_at)},
          {"actor", actor.to_json()},
          {"entity", {{"type", entity_type}, {"id", entity_id}}},
          {"data", data},
          {"causation_id", causation_id.empty() ? Json() : Json(causation_id)},
          {"depth", depth}};
}

void enqueue_event(store::Transaction& tx, const DomainEvent& e) {
  tx.announce(store::Work::outbox);
  tx.append("outbox",
            "(id, tenant_id, name, occurred_at, actor, entity_type, entity_id, data, causation_id, depth, request_id)",
            {e.id, e.tenant_id, e.name, e.occurred_at.micros, e.actor.to_json().dump(), e.entity_type, e.entity_id,
             e.data.dump(), e.causation_id.empty() ? store::SqlValue{} : store::SqlValue{e.causation_id},
             std::int64_t{e.depth}, e.request_id.empty() ? store::SqlValue{} : store::SqlValue{e.request_id}});
}

std::size_t redact_payloads(store::Transaction& tx, const std::string& tenant_id, const std::string& entity_id) {
  return static_cast<std::size_t>(store::execute(
      tx.session(), "UPDATE outbox SET data = :p0 WHERE tenant_id = :p1 AND entity_id = :p2",
      {Json{{"erased", true}}.dump(), tenant_id, entity_id}));
}

}  // namespace nucleo::events
