#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernel/domain/actor.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/services/principal.hpp"

namespace nucleo::services {

// Who is calling, for which tenant, and why (docs/architecture.md §1). Every service takes one; it
// is what the audit event records. The clock is injectable so tests travel in time.
struct CallContext {
  std::string tenant_id;
  Actor actor;
  std::string request_id;
  std::string source_ip;
  std::string reason;
  const Clock* clock = nullptr;                // never null in a real call
  std::shared_ptr<const Principal> principal;  // null: unrestricted (CLI, system work)
  // Work done because of a domain event (a subscriber's handler): the events it writes
  // name that event as their cause, one level deeper (docs/architecture.md §6 envelope).
  std::string causation_id;
  int depth = 0;
  // A plugin's write made once (plugin_abi.h call_service "idempotency_key"): the
  // write and the memory of it commit together, so a repeat after a crash answers
  // what the first one wrote instead of writing again (IdempotencyService).
  struct WriteOnce {
    std::string scope;        // "plugin:<id>@<tenant>": whose keys these are
    std::string key;
    std::string fingerprint;  // the request, so a key reused for another is refused
  };
  std::optional<WriteOnce> write_once;
  // The caller moves a deal past the stage gates it does not meet (an admin or manager,
  // with a reason): the move is recorded with a deal.gate_overridden event naming them.
  bool override_gates = false;
  // The caller archives their own user knowing they lose their access with it (issue
  // #26: DELETE /v1/users/{own id}?confirm_self=true); without it that archive is refused.
  bool confirm_own_archive = false;
  // A bulk import of another system's records (docs/import.md, "Another system's
  // history"; ADR 0045): when the record was created there and, for a deal, when it
  // entered each stage — {"created_at", "stage_entered_at", "stages": {stage id: time}},
  // RFC 3339 — written instead of now. Null for every other write.
  nlohmann::json source_history;

  Timestamp now() const { return clock->now(); }
};

}  // namespace nucleo::services
