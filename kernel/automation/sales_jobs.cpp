#include "kernel/automation/sales_jobs.hpp"

namespace nucleo::automation {
namespace {

services::CallContext job_context(const Json& job, const Clock& clock, const std::string& name) {
  services::CallContext ctx;
  ctx.tenant_id = job.at("tenant_id").get<std::string>();
  ctx.actor = {"system", name, ""};
  ctx.request_id = job.value("job_id", "");
  ctx.clock = &clock;
  return ctx;
}

events::Schedule every(std::chrono::minutes interval) {
  return events::Schedule::parse("every " + std::to_string(interval.count()) + "m");
}

}  // namespace

events::JobDefinition stalled_deals_job(services::ServiceDependencies deps, const Clock& clock,
                                        const SalesJobSettings& settings) {
  events::JobDefinition job;
  job.name = stalled_deals_job_name;
  job.schedule = every(settings.stalled_interval);
  job.run = [deps, &clock, stall = settings.stall](const Json& row) -> std::string {
    services::SalesProcessService(deps).update_stalled_deals(job_context(row, clock, stalled_deals_job_name), stall);
    return "";
  };
  return job;
}

events::JobDefinition task_reminders_job(services::ServiceDependencies deps, const Clock& clock,
                                         const SalesJobSettings& settings) {
  events::JobDefinition job;
  job.name = task_reminders_job_name;
  job.schedule = every(settings.reminder_interval);
  job.run = [deps, &clock, lead = settings.reminder_lead](const Json& row) -> std::string {
    services::SalesProcessService(deps).send_task_reminders(job_context(row, clock, task_reminders_job_name), lead);
    return "";
  };
  return job;
}

}  // namespace nucleo::automation
