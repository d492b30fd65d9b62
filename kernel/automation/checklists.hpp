#pragma once

// Stage checklists (docs/sales-process.md): the tasks a deal gets when it enters a
// stage, from the stage's `checklist_template`:
//
//   {"key": "kyc_docs", "title": "Collect the KYC documents", "due_in_business_days": 2,
//    "assignee": {"rule": "deal_owner" | "role" | "user", "role": "manager", "user_id": "usr_…"},
//    "required_for_exit": true}
//
// A subscriber of the deal events creates them through the services, as the system on
// behalf of the move (its event is their cause); the tasks are linked to the deal,
// kind "checklist", origin_rule "checklist:<stage id>:<key>". An item already open or
// done on the deal is not created again, and a unique index keeps racing deliveries
// from opening one twice.

#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/error.hpp"
#include "kernel/events/dispatcher.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::automation {

// Tasks fall due at this hour of the assignee's day.
inline constexpr int checklist_due_hour = 18;

// "checklist:<stage id>:<item key>": what links a task to the item it came from.
std::string checklist_origin(const std::string& stage_id, const std::string& key);

// What is wrong with a checklist template, each problem by its JSON pointer under `at`.
std::vector<FieldError> checklist_definition_problems(const Json& items, const std::string& at = "checklist_template");

// What is wrong with an assignee rule {"rule": "deal_owner" | "owner" | "role" | "user", …}.
void assignee_problems(const Json& assignee, const std::string& at, std::vector<FieldError>& out);

// Who gets a task by the assignee rule: the owner `owner_id` names (deal_owner, owner); a
// named user; or for a role, an active user of it who shares a team with the owner, else
// the first of the tenant (by id). Nothing when nobody fits: the task is then unassigned.
std::optional<Json> assignee_of(services::RecordService& records, const services::CallContext& ctx,
                                const Json& assignee, const Json& owner_id);

// Creates the checklist of `stage_id` on deal `deal_id` if the deal is still there: the
// items not already open or done on it. Returns the number of tasks created.
std::size_t open_checklist(services::ServiceDependencies deps, const services::CallContext& ctx,
                           const std::string& deal_id, const std::string& stage_id);

// The dispatcher's subscriber "kernel:checklists": deal.created and deal.stage_changed
// open the checklist of the stage entered.
events::Subscriber checklist_subscriber(services::ServiceDependencies deps, const Clock& clock);

}  // namespace nucleo::automation
