#pragma once

// Rules as files an integrator keeps in git (docs/automation.md "Rules as files"): a
// directory of rule documents, each with a `key`, applied to a tenant by key — a rule
// with that key is changed to match, one without is created; rules the directory does
// not name are left as they are. All or nothing: one document with a problem and no
// rule is written. Applying the same directory again changes nothing.

#include <string>
#include <utility>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::automation {

// Every *.json document of `dir`, by file name in name order. Error(validation) naming
// a file that cannot be read or is not a JSON object, or a directory that is not there.
std::vector<std::pair<std::string, Json>> read_rule_files(const std::string& dir);

// Applies the documents: {"dry_run", "changed", "changes": [{"op": "create" | "update",
// "file", "key", "id", "fields": [changed fields]}], "unchanged": [keys]}. A problem is
// Error(validation) whose fields are "<file>#<JSON pointer>". A dry run applies and rolls back.
Json apply_rule_files(services::ServiceDependencies deps, const services::CallContext& ctx,
                      const std::vector<std::pair<std::string, Json>>& files, bool dry_run);

// automation.rules_dir at start: <dir>/<tenant id>/*.json applied to each tenant named
// by a subdirectory; returns one line per tenant for the log.
std::vector<std::string> apply_rules_dir(services::ServiceDependencies deps, const Clock& clock, const std::string& dir);

}  // namespace nucleo::automation
