#pragma once

// Cadence enrolments (docs/automation.md "Cadences"): one contact's way through one
// cadence — the step due next and when, what each step done sent or created, or why
// the enrolment stopped. Every change is audited on the enrolment (cadence_enrolment.*
// events). The step runner (kernel/automation/cadences.hpp) sends a step and calls
// advance() in one transaction (Database::in_one_transaction): a step is done exactly
// when its message or task exists.

#include <optional>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

struct EnrolmentQuery {
  std::string cadence_id, contact_id, deal_id, status;  // empty: any
  std::string after_id;                                 // keyset
  std::size_t limit = 50;
};

class CadenceEnrolmentService {
 public:
  explicit CadenceEnrolmentService(ServiceDependencies deps) : deps_(deps) {}

  // Enrols the contact (and the deal it is sold on, if any) in an active cadence, its
  // first step due `first_at`. A contact already active in the cadence keeps that
  // enrolment, which is returned. Managers and admins, or a rule.
  Json enrol(const CallContext& ctx, const std::string& cadence_id, const std::string& contact_id,
             const std::string& deal_id, Timestamp first_at);

  Json get(const CallContext& ctx, const std::string& id);
  std::vector<Json> list(const CallContext& ctx, const EnrolmentQuery& query);

  // Stops the active enrolments the column names (`id`, `contact_id` or `deal_id`; within
  // one cadence when `cadence_id` is given; only those enrolled before `enrolled_before`
  // when given — an event stops what it found, not what its own handling enrolled),
  // saying why. Returns how many.
  std::size_t stop(const CallContext& ctx, const std::string& column, const std::string& value,
                   const std::string& reason, const std::string& cadence_id = "",
                   std::optional<Timestamp> enrolled_before = std::nullopt);

  // Replies (inbound interactions) of one tenant's contacts, in the order they were
  // logged, each with the context that tells of it (its event): stops what stop() by
  // `contact_id` with `enrolled_before` = the reply's time would, reply by reply — an
  // enrolment by the first reply after it was enrolled — asking for the contacts'
  // enrolments in one statement and writing in one transaction. Returns how many stopped.
  struct Reply {
    CallContext ctx;
    std::string contact_id;
    std::optional<Timestamp> at;  // none: whatever was enrolled
  };
  std::size_t stop_replied(const std::vector<Reply>& replies, const std::string& reason);

  // The tenant's active enrolments due at `now`, soonest first.
  std::vector<Json> due(const CallContext& ctx, Timestamp now, std::size_t limit);

  // The step `step` is done (`done`: what it sent or created): the next is due at
  // `next_at`, or with none the enrolment is completed. False when the enrolment moved
  // on meanwhile (another worker did the step): the caller's transaction must roll back.
  bool advance(const CallContext& ctx, const std::string& id, int step, const Json& done,
               std::optional<Timestamp> next_at);
  // The step failed for now: tried again at `retry_at`, the error visible meanwhile.
  void retry_later(const CallContext& ctx, const std::string& id, int step, const std::string& error,
                   Timestamp retry_at);
  // The step waits (the per-contact gap, working hours): due at `next_at` instead.
  void postpone(const CallContext& ctx, const std::string& id, int step, Timestamp next_at, const std::string& why);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
