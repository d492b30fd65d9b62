#pragma once

// Stage gates (docs/sales-process.md): the objective criteria a deal must meet to enter a
// stage, declared as data on the stage (`entry_criteria`) and enforced inside the
// writing transaction of every stage move — HTTP, batch, plugins and CLI alike — through
// the services' validator registry (services never depend on this module).
//
//   {"kind": "field", "field": "amount", "op": "gte", "value": 100000}
//   {"kind": "field", "field": "account.attributes.finance.rating", "op": "exists"}
//   {"kind": "interactions", "types": ["visit"], "direction": "outbound", "min_count": 1}
//   {"kind": "committee", "roles": ["economic_buyer", "technical"]}
//   {"kind": "checklist", "stage_id": "stg_…"}
//   {"kind": "approval", "roles": ["manager"]}
//
// "field" reads the deal's fields (or `account.<field>`, the deal's account) with the
// search operators; "interactions" counts the deal's interactions since it entered the
// stage it leaves; "committee" wants a contact of each role engaged since then;
// "checklist" the required items of an earlier stage's checklist done; "approval" a
// user of one of the roles, other than the mover, approving this move.

#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/validator_registry.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::automation {

// Where a gate sits in its pipeline, for the criteria that name other stages
// ("checklist"): every stage by its reference (its id; a pipeline template's key), its
// position and its checklist items' keys.
struct StageOutline {
  std::string ref;
  std::int64_t position = 0;
  std::vector<std::string> checklist_keys;
};
struct GateScope {
  std::string own_ref;
  std::int64_t own_position = 0;
  std::vector<StageOutline> stages;  // the pipeline's stages, the gate's own included
  std::string stage_field = "stage_id";  // what a checklist criterion names its stage by
};

// What is wrong with a stage's `entry_criteria`, each problem named by its JSON pointer
// under `at` ("entry_criteria/1/op"). Empty: a gate that can be enforced.
std::vector<FieldError> gate_definition_problems(const Json& criteria, const GateScope& scope,
                                                 const std::string& at = "entry_criteria");

// One criterion the deal does not meet: its stable code ("field_missing",
// "field_mismatch", "interactions_missing", "committee_incomplete",
// "checklist_incomplete", "approval_missing"), its place in the stage's criteria, and
// what is missing, in words.
struct UnmetCriterion {
  std::string code;
  std::size_t index = 0;
  Json criterion;
  std::string missing;
};

// A move a gate judges: the deal as it would be after it, the stage it enters, when it
// entered the stage it leaves (interactions count from then; empty: a new deal), and
// the user moving it (approvals by them do not count; empty: none known).
struct GatedMove {
  const Json& deal;
  std::string stage_id;
  std::string since;
  std::string mover_user_id;
};

// Every criterion of `criteria` the move does not meet.
std::vector<UnmetCriterion> unmet_criteria(store::Transaction& tx, const std::string& tenant_id, const GatedMove& move,
                                           const Json& criteria);

// The moves waiting for `user_id`'s approval (the agenda's "approvals"): open deals the
// caller sees, in the stage just before one whose gate asks this user's role for an
// approval that applies to the deal (its "when" met), which the user has not given since
// the deal entered its stage and may give (not the deal's owner, whose own approval
// would not count). [{"deal": {id, name, stage_id, stage_name, amount, currency},
// "stage": {id, name}, "since"}], at most `limit`.
Json pending_approvals(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& user_id,
                       std::size_t limit);

// Registers the gates: stage writes are refused with a bad definition; a deal's stage
// move is refused listing every unmet criterion of the stage it enters; and the same
// evaluation, dry, answers RecordService::deal_gate (GET /v1/deals/{id}/gate, a plugin's
// deals.gate).
void register_stage_gates(services::ValidatorRegistry& validators);

}  // namespace nucleo::automation
