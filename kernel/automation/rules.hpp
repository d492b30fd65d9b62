#pragma once

// Automation rules at work (docs/automation.md; ADR 0042). One function plans what a rule
// does for one event — the records it reads, whether its conditions hold, and each action
// with its arguments resolved — and the same plan is what the dispatcher's subscriber
// executes and what a dry run shows, so the two cannot disagree except by what changed
// in between.
//
// A firing runs every action through the services in one transaction with the actor
// {"rule", "<rule id>@<version>"}, the event as cause and one level deeper, and records
// the firing (automation_firings) in that same transaction: an event delivered again
// fires nothing. A refusal (a stage gate, a revoked consent) rolls the actions back and is
// recorded as a failed firing; a passing failure (a busy database) is retried by the
// dispatcher. At automation.max_depth a matching rule fires nothing and records
// automation.loop_stopped.

#include <functional>
#include <memory>
#include <string>

#include "kernel/automation/rule_document.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/services/validator_registry.hpp"

namespace nucleo::automation {

struct AutomationSettings {
  // Events caused this many events deep by others fire no rule (a rule that triggers
  // itself stops there). Below the dispatcher's events.max_depth.
  int max_depth = 8;
  // How long a node trusts the rules it compiled before reading them again; changes
  // through this node's dispatcher are seen at once (their events clear the cache).
  std::chrono::milliseconds cache_for{std::chrono::seconds(5)};
  // Records one time-triggered rule fires on per scan; the rest in the next scans.
  std::size_t scan_max_per_rule = 500;
};

// What a send_message action needs of the node: its job queue and the channels its
// plugins offer (the app wires the plugin host in). No jobs: send_message fails.
struct ChannelAccess {
  events::JobQueue* jobs = nullptr;
  services::ConversationService::ChannelKinds traits_of;
};

// The tenant's stages by "<pipeline key>/<stage key>" (rules may name a stage so), as a
// rule is compiled to run.
StageKeys stage_keys(services::ServiceDependencies deps, const services::CallContext& ctx);

// The check of every rule as it is saved: a rule with a problem is refused (422), each
// problem named by its JSON pointer.
void register_rule_checks(services::ValidatorRegistry& validators);

// What `rule` would do for the event now: {"rule_id", "rule_version", "event_id",
// "event_name", "entity": {type, id}, "matched": bool, "reason"? (why not),
// "actions": [{"type", …resolved arguments, "skipped"?: why not}]}. Reads only.
Json plan_firing(services::ServiceDependencies deps, const services::CallContext& ctx, const CompiledRule& rule,
                 const Json& envelope);

// Fires `rule` for the event if its trigger and conditions match: {"outcome": "done" |
// "failed" | "loop_stopped" | "not_matched" | "already_fired", "plan"?, "error"?}. Throws
// the errors worth retrying.
Json fire_rule(services::ServiceDependencies deps, const Clock& clock, const ChannelAccess& channels,
               const AutomationSettings& settings, const CompiledRule& rule, const Json& envelope);

// The dispatcher's subscriber "kernel:automation": every event, every enabled rule of its
// tenant whose trigger matches.
events::Subscriber rules_subscriber(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                    AutomationSettings settings);

// POST /v1/automation/rules/{id}/dry-run and /v1/automation/rules/dry-run: what the rule
// (a stored rule record, or a document not saved) would do for the tenant's latest
// `events` events — for a time rule, for the (at most `events`) records it would take now: {"rule", "examined", "would_fire": [plan…], "not_matched"}. Writes
// nothing. A document with a problem is refused as saving it would be.
Json dry_run(services::ServiceDependencies deps, const services::CallContext& ctx, const Json& rule,
             std::size_t events);

}  // namespace nucleo::automation
