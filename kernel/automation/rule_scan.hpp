#pragma once

// Time triggers (docs/automation.md "Time triggers"): the job kernel:automation.scan runs
// each tenant's enabled time-triggered rules every automation.scan_schedule. A rule's
// candidates are found with the search (its conditions on the record itself, plus the
// trigger's own filter), and each gets a made-up event named for the trigger whose id
// says the record and the period — so a record fires once per period, whatever the
// number of scans:
//
//   idle_days     "idle:<record>:<last activity µs>"  once per quiet spell (no update of
//                 the record and no interaction on it for idle_days)
//   schedule      "scheduled:<record>:<period µs>"     once per period of the cron
//                 schedule on the tenant's clock (a period is caught up to an hour late)
//   task_overdue  "overdue:<task>:<due µs>"            once per due time of an open task
//
// The firing itself is the event rules' (rules.hpp): planned, executed in one
// transaction as the rule, recorded once.

#include <string>
#include <vector>

#include "kernel/automation/rules.hpp"
#include "kernel/events/jobs.hpp"

namespace nucleo::automation {

inline constexpr const char* rules_scan_job_name = "kernel:automation.scan";

// The made-up events a time-triggered rule fires on now, at most `limit`, oldest
// records first.
std::vector<Json> time_events(services::ServiceDependencies deps, const services::CallContext& ctx,
                              const CompiledRule& rule, std::size_t limit);

// One scan of the tenant's enabled time rules: {"rules", "candidates", "fired", "failed"}.
// Throws the first error worth retrying after trying every rule.
Json scan_time_rules(services::ServiceDependencies deps, const services::CallContext& ctx, const ChannelAccess& channels,
                     const AutomationSettings& settings);

// kernel:automation.scan, one row per tenant on `schedule` (automation.scan_schedule).
events::JobDefinition rules_scan_job(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                     AutomationSettings settings, const std::string& schedule);

}  // namespace nucleo::automation
