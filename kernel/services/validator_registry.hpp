#pragma once

#include <functional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

// An event a validator asks the write to record beside its own, in the same
// transaction, about the same record — a stage gate overridden, with what it did not
// meet. `changes` as the audit trail holds them: {field: {from, to}}.
struct ValidationNote {
  std::string action;  // "deal.gate_overridden"
  Json changes;
};

// What a validator sees: the write about to be committed. It runs inside the writer's
// transaction and may read through `tx`, but must not write (docs/architecture.md §6);
// what it wants recorded it adds to `notes`, which the write commits with itself.
struct ValidationRequest {
  const CallContext& context;
  std::string action;       // "deal.stage_changed", "account.created", …
  std::string entity_type;  // "deal"
  const Json& before;       // null on create
  const Json& after;
  store::Transaction& tx;
  std::vector<ValidationNote>* notes = nullptr;  // null: the caller records none
};

// A validator returns the reasons it vetoes the write; empty means "no objection".
using Validator = std::function<std::vector<FieldError>(const ValidationRequest&)>;

// What moving `deal` (as stored, readable by the caller) to `stage_id` would meet and
// miss, judged in `tx` by the same gates a move is refused by, without moving it:
// {"deal_id", "stage_id", "passes", "unmet": [{"code", "criterion_index", "criterion",
// "missing"}]}. Throws Error(validation) for a stage the deal cannot enter.
using GateEvaluator =
    std::function<Json(store::Transaction& tx, const CallContext& ctx, const Json& deal, const std::string& stage_id)>;

// Checks that upper layers (automation stage gates, plugins) add to the services
// without services depending on them. All matching validators run; if any objects,
// the write fails with Error(validation) listing every reason and nothing is written.
class ValidatorRegistry {
 public:
  // `entity_type` "*" matches every entity.
  void add(std::string name, std::string entity_type, Validator validator);
  void run(const ValidationRequest& request) const;

  // The stage gates' dry evaluation, installed by whoever registers the gates (automation)
  // so the services can answer "would this move pass?" (GET /v1/deals/{id}/gate, a
  // plugin's deals.gate) with the code that enforces it. Null until then.
  void set_gate_evaluator(GateEvaluator evaluator);
  GateEvaluator gate_evaluator() const;

 private:
  struct Entry {
    std::string name;
    std::string entity_type;
    Validator validator;
  };
  mutable std::shared_mutex mutex_;
  std::vector<Entry> entries_;
  GateEvaluator gate_evaluator_;
};

}  // namespace nucleo::services
