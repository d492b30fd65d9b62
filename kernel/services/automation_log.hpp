#pragma once

// What automation rules did (docs/automation.md; ADR 0042): one row per rule and event it
// fired for, written in the transaction of the rule's actions, so an event delivered
// again fires nothing (delivery is at least once, a firing exactly once); the events a
// rule emits; and the recent events a dry run replays. The rules themselves are records
// (entity automation_rule) and change through RecordService.

#include <optional>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct RuleFiring {
  std::string rule_id;
  std::int64_t rule_version = 0;
  std::string event_id;  // the event the rule fired for
  std::string outcome;   // done | failed | loop_stopped
  Json summary;          // {"entity": {type, id}, "actions": [...], "error"?}: ids, no personal data
};

class AutomationLog {
 public:
  explicit AutomationLog(ServiceDependencies deps) : deps_(deps) {}

  // Whether the rule already fired for the event (inside a firing's transaction, it sees
  // that transaction's own row).
  bool fired(const CallContext& ctx, const std::string& rule_id, const std::string& event_id);
  // Records the firing: false when one was recorded already (nothing written then).
  // Joins the caller's transaction (Database::in_one_transaction) when there is one.
  bool record(const CallContext& ctx, const RuleFiring& firing);
  // The rule's latest firings, newest first (admin, manager, auditor).
  std::vector<Json> firings(const CallContext& ctx, const std::string& rule_id, std::size_t limit);

  // A rule's event "custom.<name>" about a record, audited and delivered to subscribers
  // and webhooks like any event; `data` travels in the event only.
  void emit(const CallContext& ctx, const std::string& name, const std::string& entity_type,
            const std::string& entity_id, const Json& data);
  // automation.loop_stopped: the rule matched an event caused `depth` events deep and
  // did not fire (automation.max_depth). Recorded once per rule and event.
  void stop_loop(const CallContext& ctx, const std::string& rule_id, std::int64_t rule_version, const Json& envelope);

  // The tenant's latest events still in the outbox, newest first, as delivered
  // (what a dry run replays).
  std::vector<Json> recent_events(const CallContext& ctx, std::size_t limit);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
