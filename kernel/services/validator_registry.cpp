#include "kernel/services/validator_registry.hpp"

#include <mutex>

namespace nucleo::services {

void ValidatorRegistry::add(std::string name, std::string entity_type, Validator validator) {
  std::unique_lock lock(mutex_);
  entries_.push_back({std::move(name), std::move(entity_type), std::move(validator)});
}

void ValidatorRegistry::run(const ValidationRequest& request) const {
  std::shared_lock lock(mutex_);
  std::vector<FieldError> reasons;
  std::string vetoed_by;
  for (const auto& e : entries_) {
    if (e.entity_type != "*" && e.entity_type != request.entity_type) continue;
    std::vector<FieldError> found;
    try {
      found = e.validator(request);
    } catch (const std::exception& ex) {
      // A validator that fails cannot vouch for the write: treat it as a veto.
      found = {{"", "validator " + e.name + " failed: " + ex.what()}};
    }
    if (found.empty()) continue;
    vetoed_by += (vetoed_by.empty() ? "" : ", ") + e.name;
    reasons.insert(reasons.end(), found.begin(), found.end());
  }
  if (reasons.empty()) return;
  throw validation_error(request.action + " vetoed by " + vetoed_by, std::move(reasons));
}

void ValidatorRegistry::set_gate_evaluator(GateEvaluator evaluator) {
  std::unique_lock lock(mutex_);
  gate_evaluator_ = std::move(evaluator);
}

GateEvaluator ValidatorRegistry::gate_evaluator() const {
  std::shared_lock lock(mutex_);
  return gate_evaluator_;
}

}  // namespace nucleo::services
