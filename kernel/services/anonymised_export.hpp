#pragma once

// Deals and interactions with the personal data taken out (LGPD art. 12; docs/compliance.md
// "Anonymised analytics"), for forecasting and process diagnosis that must not need
// anyone's data. What is kept is what the sales process is made of — stages, amounts,
// days, kinds of interaction — and nothing that names or reaches a person:
//
//   - no names, subjects, bodies, contents, notes, lost reasons or free-text attributes
//     (a deal's name often is a person's: "Proposta – Ana Souza");
//   - no ids: records are keyed d1, d2… and a1, a2… afresh in each export, so two
//     exports cannot be joined, nor an export to the live system;
//   - no people at all: owners, assignees and contacts are left out (a deal says only how
//     many contacts it has); an account whose tax id is a CPF is a person, and is no key;
//   - times cut to the day (an interaction keeps its hour), an expected close to its month.

#include <functional>
#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class AnonymisedExport {
 public:
  explicit AnonymisedExport(ServiceDependencies deps) : deps_(deps) {}

  // Hands each line to `write` — {"record": "deal", …} for every deal, then
  // {"record": "interaction", …} — reading a page at a time; stops when `write` answers
  // false (the client went away). Admin, manager and auditor; audited as
  // privacy.anonymised_export before the first line. Returns the lines written.
  std::size_t run(const CallContext& ctx, const std::function<bool(const Json&)>& write);

  // Checks the caller may export and records the export, before anything streams.
  void begin(const CallContext& ctx);

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
