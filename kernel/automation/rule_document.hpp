#pragma once

// An automation rule's document (docs/automation.md), checked and compiled when it is
// saved — never found wrong at fire time:
//
//   {"name": "Idle proposal: nudge the owner", "key": "idle_proposal", "enabled": false,
//    "trigger": {"stage_entered": "stg_…"},            // or {"event": "deal.*"}, {"stage_left": …}
//    "conditions": [{"field": "deal.amount", "op": "gte", "value": 100000},
//                   {"field": "account.attributes.segment", "op": "eq", "value": "hospital"}],
//    "actions": [{"type": "create_task", "title": "Call {{contact.name}} about {{deal.name}}",
//                 "due_in_business_days": 1, "assignee": {"rule": "owner"}}]}
//
// Conditions are the search's filters (POST /v1/{resource}/search: the same fields,
// operators and attributes), AND-ed, each on a record the event reaches: the event's own
// record by its type ("deal.amount"), its account, deal, contact, and owner (a user), or
// for a plugin's record its document ("record.crop"); "event.name", "event.actor.type"
// and "event.depth" read the event itself. Templates ("{{deal.name}}") read the same
// records. Every problem is named by its JSON pointer in the document ("/actions/0/title").

#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/store/record_table.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::automation {

// What a rule listens to: events, or time (the scan job, rule_scan.hpp), whose
// "events" are made up per record and period with the names below.
struct Trigger {
  std::string event_pattern;  // an event name, "<prefix>.*" or "*"
  std::string entity_type;    // the records its events are about ("" when they vary)
  std::string stage_entered;  // deal.created / deal.stage_changed into this stage
  std::string stage_left;     // deal.stage_changed out of this stage
  // Time triggers: "idle" (no activity for idle_days), "schedule" (each period of the
  // cron schedule, on the tenant's clock) or "overdue" (an open task past its due time).
  std::string time;
  int idle_days = 0;
  std::string schedule;  // "cron 0 8 * * 1"

  bool on_time() const { return !time.empty(); }
  bool on_stage() const { return !stage_entered.empty() || !stage_left.empty(); }
};

// The event names of time triggers' firings.
inline constexpr const char* idle_event = "automation.idle";
inline constexpr const char* schedule_event = "automation.scheduled";
inline constexpr const char* overdue_event = "automation.task_overdue";

struct Condition {
  std::string scope;        // deal | account | contact | owner | <the trigger's entity> | record | event
  std::string entity_type;  // the scope's core entity ("" for record and event)
  store::SearchFilter filter;  // `field` relative to the scope ("amount", "attributes.segment")
  // Worked out once when compiled: every event evaluates the condition again.
  enum class Op { eq, neq, lt, lte, gt, gte, in, contains, starts_with, exists } op = Op::eq;
  bool timestamps = false;   // compared as instants
  bool folded = false;       // eq ignores case and accents, as the search's folded fields
  std::string folded_value;  // contains / starts_with, and eq / neq on a folded field: the value folded
  // Given by the rule set that evaluates it (-1: none): where an event's memo keeps the
  // value it reads, shared with every condition on the same scope and field.
  int slot = -1;
};

// A checked rule, ready to run.
struct CompiledRule {
  std::string id;
  std::int64_t version = 0;
  std::string name;
  bool enabled = false;
  Trigger trigger;
  std::vector<Condition> conditions;
  Json actions;                      // as written, checked
  std::vector<std::string> scopes;   // the related records its conditions and actions read
};

// Every problem of the rule (its stored fields: trigger, conditions, actions), each by its
// JSON pointer. `tx` reads the tenant's stages, channel accounts, teams and purposes the
// rule names.
std::vector<FieldError> rule_problems(store::Transaction& tx, const std::string& tenant_id, const Json& rule);

// The tenant's stages by "<pipeline key>/<stage key>": how a rule may name a stage.
using StageKeys = std::map<std::string, std::string>;

// A rule without problems, compiled (throws Error(validation) with the problems otherwise),
// the stages it names by key resolved to their ids.
CompiledRule compile_rule(const Json& rule, const StageKeys& stage_keys = {});

// Whether the event is one the trigger listens to.
bool trigger_matches(const Trigger& trigger, const Json& envelope);

// The value at a dotted path inside a record ("amount", "attributes.segment",
// "data.record.stage_id"); null when there is none.
const Json& json_at(const Json& record, const std::string& path);

// The records a rule reads for one event, by scope ("deal", "account", …, "record",
// "event"); a scope the event does not reach is null.
using Scopes = std::map<std::string, Json>;

// What the rules evaluated on one event's scopes share, by condition slot: the value
// each scope and field holds, found once, and folded once for text comparison.
struct EventMemo {
  struct Value {
    bool found = false;
    const Json* json = nullptr;  // null: the scope is null or missing
    bool folded = false;
    std::string folded_text;
  };
  std::vector<Value> slots;
};

// Whether every condition holds on the scopes (a null scope fails its conditions).
bool conditions_hold(const CompiledRule& rule, const Scopes& scopes, EventMemo* memo = nullptr);
// The same on scopes found by name (null: a missing or null scope): what evaluates many
// rules on one event without copying its records.
bool conditions_hold(const CompiledRule& rule, const std::function<const Json*(const std::string&)>& scope,
                     EventMemo* memo);

// The problems of every template in `value` (its strings, anywhere inside) for the
// records an event about a `type` record reaches ("deal": its account, contact and owner).
std::vector<FieldError> template_problems_in(const Json& value, const std::string& at, const std::string& type);

// A template with its {{scope.field}} variables filled from the scopes (a missing value
// reads as empty text).
std::string render_template(const std::string& text, const Scopes& scopes);
// Every string inside `value` rendered.
Json render_strings(const Json& value, const Scopes& scopes);

}  // namespace nucleo::automation
