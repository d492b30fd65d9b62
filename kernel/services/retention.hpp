#pragma once

// Retention that runs itself (LGPD arts. 15, 16; docs/compliance.md "Retention"; ADR 0041).
// A tenant's policies say when personal data has served its purpose:
//
//   {"entity": "contact", "after_days": 730}                  no activity for two years: erased
//   {"entity": "contact", "after_days": 180, "purpose_not_granted": "marketing_email"}
//   {"entity": "interaction", "after_days": 1825, "types": ["whatsapp", "email"]}
//                                                              message contents after five years
//   {"entity": "plugin_record", "plugin_id": "org.nucleo.finance", "collection": "kyc",
//    "date_field": "relationship_ended_on", "after_days": 1825}
//
// A run applies each policy through the erasure path, one record per transaction (a run
// killed midway leaves every record erased whole or untouched), skips records under a
// legal hold and reports them, and touches nothing for a policy changed less than
// privacy.retention_grace_days ago. plan() is the same run without writing: what the next
// run would touch.

#include <string>
#include <vector>

#include "kernel/events/jobs.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

inline constexpr const char* retention_job_name = "kernel:privacy.retention";

class RetentionService {
 public:
  explicit RetentionService(ServiceDependencies deps) : deps_(deps) {}

  // The tenant's policies by key, each {key, description, entity, after_days, …, enabled,
  // version, updated_at, in_grace_until}.
  std::vector<Json> policies(const CallContext& ctx);
  // Defines or changes one policy (admin); audited as privacy.retention_policy_defined. Its
  // grace period starts again.
  Json define_policy(const CallContext& ctx, const std::string& key, const Json& body);

  // What the next run would do: {"generated_at", "grace_days", "max_per_run", "policies":
  // [{key, entity, cutoff, status: "due" | "in_grace" | "disabled", in_grace_until,
  // records: [{entity_type, id, subject_id, held}], held, more}]}.
  Json plan(const CallContext& ctx);
  // Applies the plan (admin or the job): the same shape, with per policy "touched" and
  // "records" those it touched; recorded in retention_runs and audited as
  // privacy.retention_ran.
  Json run(const CallContext& ctx);
  // The latest runs, newest first.
  std::vector<Json> runs(const CallContext& ctx, std::size_t limit);

 private:
  Json plan_or_run(const CallContext& ctx, bool apply);
  ServiceDependencies deps_;
};

// kernel:privacy.retention, one row per tenant on `schedule` (privacy.retention_schedule).
events::JobDefinition retention_job(ServiceDependencies deps, const Clock& clock, const std::string& schedule);

}  // namespace nucleo::services
