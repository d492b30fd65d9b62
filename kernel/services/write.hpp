#pragma once

// Internal to services/: one write being assembled inside its transaction, and the
// pipeline every write goes through.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel/audit/recorder.hpp"
#include "kernel/domain/entity.hpp"
#include "kernel/domain/record_validation.hpp"
#include "kernel/events/outbox.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/change.hpp"
#include "kernel/services/record_service.hpp"
#include "kernel/store/transaction.hpp"

namespace nucleo::services {

struct Write {
  const CallContext& ctx;
  store::Transaction& tx;
  const EntitySpec& spec;
  const NormalisationSettings& normalisation;
  std::string action;  // rules may refine it ("deal.updated" → "deal.stage_changed")
  Json before;         // null on create
  Json after;
  Json duplicates = Json::array();
  std::vector<FieldError> errors;  // rules add here; the pipeline throws them together

  bool is_create() const { return before.is_null(); }
  bool changed(const std::string& field) const {
    return is_create() ? !after.value(field, Json()).is_null()
                       : before.value(field, Json()) != after.value(field, Json());
  }
  const std::string& id() const { return after.at("id").get_ref<const std::string&>(); }
};

// An update's bookkeeping: the next version, stamped now.
void bump_version(Write& w);

// A time of another system's history an import carries (CallContext::source_history):
// nullopt when `value` is null; otherwise an RFC 3339 instant from 1970 to now, or an
// error on `field` added to the write.
std::optional<Timestamp> source_time(Write& w, const Json& value, const std::string& field);
// The same for the history's own `field` ("created_at", "stage_entered_at").
std::optional<Timestamp> source_time(Write& w, const std::string& field);

// Entity-specific behaviour around the generic save: derived fields and conflicts
// before it, side tables (stage history, contact points) after it.
struct EntityRules {
  std::function<void(Write&)> before_save;
  std::function<void(Write&)> after_save;
};

const EntityRules& rules_for(const std::string& entity_type);

// Records a "<type>.sensitive_read" audit event for each record whose reading
// discloses something the deployment marks sensitive (SensitiveData), in a transaction
// of its own; throws if it cannot, so the caller returns nothing.
void record_sensitive_reads(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec,
                            const std::vector<const Json*>& records);

// The fields of `changes` that hold the entity's personal data — "attributes" too when
// it changes a key `attributes` declares personal.
std::vector<std::string> personal_fields_in(const EntitySpec& spec, const Json& changes,
                                            const AttributeSchemas* attributes = nullptr);

// Runs the whole pipeline in one transaction. `change` fills `after` from `before`
// (and may throw validation errors). `id` empty means create.
WriteResult run_write(ServiceDependencies& deps, const CallContext& ctx, const EntitySpec& spec, std::string action,
                      const std::string& id, std::optional<std::int64_t> expected_version,
                      const std::function<void(Write&)>& change);

}  // namespace nucleo::services
