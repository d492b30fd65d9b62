#pragma once

#include <string>

#include "kernel/domain/actor.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::events {

// A domain event (docs/architecture.md §6 envelope): written to the outbox in the same transaction
// as the change it reports, dispatched at least once later (issue 9).
struct DomainEvent {
  std::string id;    // evt_…
  std::string name;  // "account.created", "deal.stage_changed", …
  std::string tenant_id;
  Timestamp occurred_at;
  Actor actor;
  std::string entity_type;
  std::string entity_id;
  Json data = Json::object();
  std::string causation_id;  // the event that caused this one, if any
  int depth = 0;             // causation depth: automation stops loops with it
  std::string request_id;

  Json envelope() const;
};

void enqueue_event(store::Transaction& tx, const DomainEvent& event);

// Erasure (docs/architecture.md §5): the payloads of the entity's events become {"erased": true};
// names, ids and times stay so delivery bookkeeping is untouched. Returns the count.
std::size_t redact_payloads(store::Transaction& tx, const std::string& tenant_id, const std::string& entity_id);

}  // namespace nucleo::events
