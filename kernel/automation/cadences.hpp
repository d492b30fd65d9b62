#pragma once

// Cadences at work (docs/automation.md "Cadences"; ADR 0042). A cadence's steps:
//
//   {"delay_days": 0, "type": "message", "channel_account_id": "chn_…", "subject": "…",
//    "text": "Olá {{contact.name}}, …"}
//   {"delay_days": 2, "type": "message", "channel_account_id": "chn_…",
//    "template": {"name": "proposta", "language": "pt_BR", "components": […]}}
//   {"delay_days": 5, "type": "task", "title": "Ligar para {{contact.name}}"}
//
// Step i of an enrolment falls due `delay_days` after the enrolment, moved into the
// owner's working hours (cadence.working_hours, on the owner's time zone, else the
// tenant's) and past the per-contact gap (no two messages to one contact within
// cadence.gap_hours, whoever sent the first). The job kernel:cadences.steps runs the due
// steps: a message goes through ConversationService::send with the cadence's purpose —
// the consent ledger is asked before every step, and a refused basis stops the
// enrolment (consent_revoked) — and the enrolment moves past the step in the same
// transaction, so a step is never sent twice nor lost. A WhatsApp step with both text
// and a template sends the template once the 24-hour window is closed. A step that
// fails for now is retried with back-off, the error on the enrolment; after
// max_step_attempts, or for good (no address), the enrolment stops saying why.
//
// The subscriber kernel:cadences stops a contact's enrolments on an inbound message of
// hers on any channel (replied), and a deal's on its stage change (stage_changed) or
// close (deal_closed).

#include <string>

#include "kernel/automation/rules.hpp"
#include "kernel/events/jobs.hpp"

namespace nucleo::automation {

inline constexpr const char* cadence_steps_job_name = "kernel:cadences.steps";
inline constexpr int max_step_attempts = 6;

// The check of every cadence as it is saved (422 naming each problem by JSON pointer).
void register_cadence_checks(services::ValidatorRegistry& validators);

// When step `index` falls due for an enrolment made at `enrolled_at`: its delay, in
// working hours on `zone`, never before `not_before`.
Timestamp step_due_at(const Json& cadence, std::size_t index, Timestamp enrolled_at, const std::string& zone,
                      Timestamp not_before);

// Enrols a contact: the first step falls due as step_due_at says. Returns the enrolment.
Json enrol_contact(services::ServiceDependencies deps, const services::CallContext& ctx, const std::string& cadence_id,
                   const std::string& contact_id, const std::string& deal_id);

// Runs the tenant's due steps (at most `limit`): {"done", "postponed", "retried", "stopped"}.
Json run_due_steps(services::ServiceDependencies deps, const services::CallContext& ctx, const ChannelAccess& channels,
                   std::size_t limit);

// kernel:cadences.steps, one row per tenant on `schedule` (automation.scan_schedule).
events::JobDefinition cadence_steps_job(services::ServiceDependencies deps, const Clock& clock, ChannelAccess channels,
                                        const std::string& schedule);

// The dispatcher's subscriber kernel:cadences.
events::Subscriber cadence_stops_subscriber(services::ServiceDependencies deps, const Clock& clock);

}  // namespace nucleo::automation
