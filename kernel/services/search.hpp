#pragma once

#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/store/record_table.hpp"

namespace nucleo::services {

// POST /v1/{resource}/search bodies (docs/architecture.md §7):
//   {"filter_groups": [{"filters": [{"field": "legal_name", "op": "contains", "value": "joão"}]}],
//    "sort": [{"field": "created_at", "direction": "desc"}], "limit": 50}
// Groups are OR-ed, the filters of a group AND-ed. Fields: the entity's own and system
// fields, and `attributes.<key>` (compared as text). Sorting is on one field that is
// never null; ties are broken by id. Throws Error(validation) naming each bad part
// ("filter_groups[0].filters[1].op").
store::SearchQuery parse_search(const EntitySpec& spec, const Json& body, std::size_t max_limit);

// One filter {"field", "op", "value"} checked as a search checks it, each problem named
// `at` + `separator` + "field" | "op" | "value" (automation rules: "/conditions/0" and "/").
std::vector<FieldError> filter_problems(const EntitySpec& spec, const Json& filter, const std::string& at,
                                        const std::string& separator, store::SearchFilter& out);

// Fields a search may sort by: id, created_at, updated_at and fields that always have a value.
std::vector<std::string> sortable_fields(const EntitySpec& spec);

}  // namespace nucleo::services
