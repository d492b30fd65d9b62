#pragma once

// The diagnosis of a tenant's sales process — where deals convert and where they stall,
// who wins what, why deals are lost, which records are incomplete at each stage, where
// the data sits in silos, and where messages go out without context (docs/insight.md,
// "The diagnosis"). Computed from the same snapshot as the model, as of an instant.

#include "history.hpp"

namespace insight {

// {"as_of", "stages": [...], "owners": [...], "lost_reasons": [...], "completeness": [...],
//  "silos": {...}, "without_context": {...}, "findings": ["…", …]}
Json diagnose(const History& history, std::int64_t at);

// The same as a readable report (Markdown), for a manager or an integrator.
std::string diagnosis_report(const Json& diagnosis);

}  // namespace insight
