#pragma once

// The access and portability report (LGPD arts. 18 II/V, 19; docs/compliance.md
// "Data-subject requests"): everything Nucleo holds about one person, as a
// machine-readable bundle and a readable document.
//
// The bundle ({"format": "nucleo-subject-report", "version": 1}) holds her contact record,
// the deals, interactions (channel messages included) and tasks that name her, the
// channel deliveries addressed to her, her consent ledger, what plugins hold about her
// (their personal collections and attributes: the same declarations erasure follows),
// her requests, who her data is shared with, and for every record its field history
// with personal values opened while her key exists — and under "audit" the newest event
// of each record with an inclusion proof to the newest signed checkpoint, which
// `nucleo audit verify <report.json> --vkey log.vkey` checks offline.
//
// Nothing of another person is read: every record is found by her contact id, in her
// tenant's transaction under row-level security.

#include <cstddef>
#include <functional>
#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class SubjectReport {
 public:
  explicit SubjectReport(ServiceDependencies deps) : deps_(deps) {}

  // `request`: the request as PrivacyRequestService shows it. `progress(done, total)`
  // as records are gathered. Error(not_found) when the contact does not exist.
  Json build(const CallContext& ctx, const Json& request,
             const std::function<void(std::size_t done, std::size_t total)>& progress);

  // The bundle as a document a person can read (Markdown, Portuguese headings with English).
  static std::string markdown(const Json& bundle);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
