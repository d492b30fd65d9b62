#pragma once

// The sales process's recurring work on the job queue (docs/sales-process.md): marking
// deals stalled in their stage and reminding assignees of tasks coming due. One row per
// tenant each; the work itself is services::SalesProcessService's.

#include <chrono>
#include <string>

#include "kernel/events/jobs.hpp"
#include "kernel/services/sales_process_service.hpp"

namespace nucleo::automation {

inline constexpr const char* stalled_deals_job_name = "kernel:deals.stalled";
inline constexpr const char* task_reminders_job_name = "kernel:tasks.reminders";

struct SalesJobSettings {
  std::chrono::minutes stalled_interval{10};  // sales.stalled_interval_minutes
  services::StallSettings stall;              // sales.stalled_activity_resets, sales.stalled_max_per_run
  std::chrono::minutes reminder_interval{1};  // sales.reminder_interval_minutes
  std::chrono::minutes reminder_lead{60};     // sales.reminder_lead_minutes: task.due_soon this long ahead
};

events::JobDefinition stalled_deals_job(services::ServiceDependencies deps, const Clock& clock,
                                        const SalesJobSettings& settings);
events::JobDefinition task_reminders_job(services::ServiceDependencies deps, const Clock& clock,
                                         const SalesJobSettings& settings);

}  // namespace nucleo::automation
