#pragma once

// A deal's buying committee as the education pack sees it (docs/verticals/education.md):
// who holds which role, who has been engaged, and which roles are still uncovered — the
// same test the stage gates' committee criterion applies.

#include <string>
#include <vector>

#include "nucleo/sdk/plugin.hpp"

namespace nucleo::education {

using nucleo::sdk::Json;

// sponsor, economic_buyer, technical_evaluator, user, blocker.
const std::vector<std::string>& committee_roles();

// Members ({"contact_id", "role", "engaged_in_stage": bool, "engaged_recently": bool, …})
// → {"roles": {"<role>": {"holders", "engaged"}}, "unengaged": [roles nobody engaged
// holds], "missing": [roles nobody holds], "coverage_percent"}: a role is covered when one
// of its holders took part in a live interaction since the deal entered its stage.
Json committee_coverage(const std::vector<Json>& members, const std::vector<std::string>& roles);

}  // namespace nucleo::education
