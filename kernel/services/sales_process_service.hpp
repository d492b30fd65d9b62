#pragma once

// The sales process's scheduled work and reads (docs/sales-process.md): deals stalled in
// their stage, reminders of tasks coming due, and a user's agenda. The jobs that call
// the first two are kernel/automation's; the writes they make go through RecordService.

#include <chrono>
#include <optional>
#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct StallSettings {
  // A new interaction on the deal restarts its rot clock (and clears a stall); false:
  // only a stage move does.
  bool activity_resets = true;
  std::size_t max_per_run = 5000;  // state changes written per run; the next run goes on
};

struct StallScan {
  std::size_t candidates = 0;  // deals whose stage entry is older than the stage's rot_days
  std::size_t stalled = 0;     // newly marked (deal.stalled)
  std::size_t cleared = 0;     // no longer stalled (deal.stall_cleared)
};

struct AgendaQuery {
  std::string user_id;
  Timestamp from;  // upcoming tasks due from here…
  Timestamp to;    // …until before here; overdue ones (due before now) always
  std::size_t limit = 200;
};

class SalesProcessService {
 public:
  explicit SalesProcessService(ServiceDependencies deps) : deps_(deps) {}

  // Marks the tenant's open deals that sat in their stage longer than its rot_days
  // (since they entered it, or since their last interaction when activity resets the
  // clock) and clears the ones that no longer do. One audited write per change.
  StallScan update_stalled_deals(const CallContext& ctx, const StallSettings& settings);

  // Fires task.due_soon for open tasks due within `lead`, and task.overdue for those
  // past due — once per task, kind and due time (a new due time reminds again).
  // Returns the number of reminders sent.
  std::size_t send_task_reminders(const CallContext& ctx, std::chrono::minutes lead);

  // GET /v1/me/agenda: the user's open tasks that are overdue or due in [from, to), by
  // due time, each with its deal and account, times also on the user's wall clock.
  // Throws not_found for a user not in the tenant.
  Json agenda(const CallContext& ctx, const AgendaQuery& query);

  // GET /v1/pipelines/{id}/board: the pipeline's live stages by position, each with the
  // number and value (per currency, in cents) of the open deals in it that the caller may
  // see — one grouped read, so a board of 300,000 deals loads its columns' headers
  // without reading them. Throws not_found for a pipeline not in the tenant.
  Json board(const CallContext& ctx, const std::string& pipeline_id);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
