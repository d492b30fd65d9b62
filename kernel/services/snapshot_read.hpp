#pragma once

// A tenant's sales process read whole from one snapshot, for a plugin that learns from it
// (insight's training and backtest: ADR 0044). What it holds is what deals are made of —
// stages, amounts, times, owners, links, kinds of interaction — never a name, an e-mail
// address, a subject, a body or an attribute a plugin declared personal.
//
// Kinds and their lines (times in microseconds since the epoch, UTC; absent values null):
//   pipeline            {"kind", "id", "archived"}
//   stage               {"kind", "id", "pipeline_id", "position", "probability", "stage_kind"
//                        ("open"|"won"|"lost"), "rot_days", "criteria" (how many entry
//                        criteria), "archived"}
//   user                {"kind", "id", "role", "team_ids", "active"}
//   account             {"kind", "id", "owner_id", "lifecycle", "created_at", "attributes",
//                        "archived"}
//   contact             {"kind", "id", "account_id", "owner_id", "job_title", "created_at",
//                        "archived", "consent_granted" (the purposes its consent is granted
//                        for)}  (an erased contact's job title is null)
//   deal                {"kind", "id", "account_id", "pipeline_id", "stage_id", "owner_id",
//                        "amount", "currency", "expected_close", "status", "lost_reason",
//                        "stage_entered_at", "contacts" ([{"contact_id", "role"}]), "attributes", "created_at",
//                        "updated_at", "archived"}
//   deal_stage_history  {"kind", "deal_id", "stage_id", "entered_at", "left_at"}
//   deal_close_history  {"kind", "deal_id", "expected_close" (YYYY-MM-DD or null),
//                        "changed_at"}: each expected close the deal was given, and when
//   interaction         {"kind", "id", "type", "direction", "channel", "occurred_at",
//                        "delivery_status", "account_id", "contact_id", "deal_id", "archived"}
//   task                {"kind", "id", "kind_of_task", "status", "due_at", "completed_at",
//                        "created_at", "assignee_id", "account_id", "contact_id", "deal_id",
//                        "archived"}
// "attributes" keeps the scalar values (numbers, booleans, strings) of keys no plugin
// declared personal.

#include <functional>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class SnapshotRead {
 public:
  explicit SnapshotRead(ServiceDependencies deps) : deps_(deps) {}

  // The kinds above, in the order a read sends them.
  static const std::vector<std::string>& kinds();

  // Reads `request` = {"kinds": [...] (default: all), "chunk_rows": 1-50,000 (5,000),
  // "deal_ids": [1-100 ids] (narrows the read to those deals, their stage history,
  // interactions and tasks, their accounts with their contacts and other deals and
  // those deals' stage history: what rescoring one deal needs; not audited)}
  // from one snapshot and hands the lines to `chunk` as JSON Lines, at most chunk_rows
  // lines a call, kind after kind in the order of kinds(); stops early when `chunk`
  // answers false. Admin, manager and auditor callers ("snapshot:read" for a scoped
  // key), or the kernel's own work (a plugin's job). Audited once, as
  // `snapshot.read`, before the first line. Answers {"counts": {kind: lines},
  // "as_of": RFC 3339, "complete": bool}.
  Json run(const CallContext& ctx, const Json& request, const std::function<bool(const std::string& jsonl)>& chunk);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
