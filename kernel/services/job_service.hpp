#pragma once

#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// The caller's tenant's background jobs whose last run failed (docs/architecture.md §8):
// "failing" ones run again by themselves, "dead" one-off jobs ran out of
// jobs.max_attempts. Admins list them, and run a dead one again or discard it.
class JobService {
 public:
  explicit JobService(ServiceDependencies deps) : deps_(deps) {}

  // Newest failure first: {id, name, plugin_id, state, attempts, last_error,
  // last_run_at, dead_at, run_at, created_at} — never the payload, which may hold
  // personal data. `state`: failing or dead; `plugin_id` narrows to one plugin's jobs.
  std::vector<Json> failed(const CallContext& ctx, const std::string& state, const std::string& plugin_id,
                           std::size_t limit);

  // A dead job is due again now with a fresh count of attempts; audited as
  // "job.retried". not_found unless the job is dead in this tenant.
  Json retry(const CallContext& ctx, const std::string& id);

  // A dead job is deleted; audited as "job.discarded". not_found unless it is dead.
  void discard(const CallContext& ctx, const std::string& id);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
