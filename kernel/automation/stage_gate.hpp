#pragma once

// Stage gates (docs/sales-process.md): the objective criteria a deal must meet to enter a
// stage, declared as data on the stage (`entry_criteria`) and enforced inside the
// writing transaction of every stage move — HTTP, batch, plugins and CLI alike — through
// the services' validator registry (services never depend on this module).
//
//   {"kind": "field", "field": "amount", "op": "gte", "value": 100000}
//   {"kind": "field", "field": "account.attributes.finance.rating", "op": "exists"}
//   {"kind": "interactions", "types": ["visit"], "direction": "outbound", "min_count": 1}
//
// "field" reads the deal's fields (or `account.<field>`, the deal's account) with the
// search operators; "interactions" counts the deal's interactions since it entered the
// stage it leaves.

#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/services/validator_registry.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::automation {

// What is wrong with a stage's `entry_criteria`, each problem named by its JSON pointer
// ("entry_criteria/1/op"). Empty: a gate that can be enforced.
std::vector<FieldError> gate_definition_problems(const Json& criteria);

// One criterion the deal does not meet: its stable code ("field_missing",
// "field_mismatch", "interactions_missing"), its place in the stage's criteria, and
// what is missing, in words.
struct UnmetCriterion {
  std::string code;
  std::size_t index = 0;
  Json criterion;
  std::string missing;
};

// Every criterion of `criteria` that `deal` (as it would be after the move) does not
// meet; `since`: when it entered the stage it leaves (interactions count from then).
std::vector<UnmetCriterion> unmet_criteria(store::Transaction& tx, const std::string& tenant_id, const Json& deal,
                                           const Json& criteria, const std::string& since);

// What moving deal `deal_id` to `stage_id` would meet and miss, without moving it (GET
// /v1/deals/{id}/gate): {"deal_id", "stage_id", "passes", "unmet": [{"code",
// "criterion_index", "criterion", "missing"}]} — the same evaluation the move enforces.
// The caller must be able to read the deal (404 otherwise).
Json evaluate_gate(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& deal_id,
                   const std::string& stage_id);

// Registers the gates: stage writes are refused with a bad definition; a deal's stage
// move is refused listing every unmet criterion of the stage it enters.
void register_stage_gates(services::ValidatorRegistry& validators);

}  // namespace nucleo::automation
