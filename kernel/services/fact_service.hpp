#pragma once

// A plugin's fact sets (ADR 0035; docs/plugin-authoring.md, "Fact sets"): measurements a
// plugin imports in bulk — a retailer's sell-out, sell-in and inventory lines, millions
// of them — kept as typed rows of plugin_facts and aggregated in SQL, where documents of
// the record store would be read one by one. A fact is keyed by all its dimensions (up to
// four text ones and one date); importing it again replaces its integer measures. Writes
// come from imports, audited once per batch (plugin_facts.written: how many, which days);
// reads are aggregates the plugin asks for (facts.aggregate), as the caller.

#include <map>
#include <string>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// One fact set as the manifest declares it.
struct FactSetSpec {
  std::vector<std::string> dimensions;  // text dimensions, stored as d1…d4 in this order
  std::string date_dimension;           // its date dimension, stored as a day number; "" when none
  std::vector<std::string> measures;    // integer measures, stored as m1…m4 in this order
};
using FactSets = std::map<std::string, FactSetSpec>;

class FactService {
 public:
  FactService(ServiceDependencies deps, std::string plugin_id, const FactSets& sets)
      : deps_(deps), plugin_id_(std::move(plugin_id)), sets_(sets) {}

  // Writes facts of `set` ({"<dimension>": "…", "<date dimension>": "YYYY-MM-DD",
  // "<measure>": integer | null, …}) in the caller's transaction, each replacing the fact
  // with the same dimensions; one audit event for all of them. Returns, per fact, created
  // | updated | unchanged. Throws Error(validation) naming the first bad fact.
  std::vector<std::string> write(const CallContext& ctx, const std::string& set, const std::vector<Json>& facts);

  // {"set", "where"?: {"<dimension or measure>": {"eq"|"in"|"gt"|"gte"|"lt"|"lte": v}},
  //  "group_by"?: [dimensions] | "grouping_sets"?: [[dimensions], …],
  //  "values"?: {"<name>": {"sum"|"min"|"max": "<measure>"} | {"count": true}, with an
  //              optional "where" of its own},
  //  "limit"?: groups, 1-1,000,000 (100,000)}
  // → {"columns": [group dimensions…, value names…], "rows": [[…], …]}: one row per group
  // (dates as YYYY-MM-DD; a dimension a grouping set leaves out is null). Without values:
  // the sum of every measure and "count". More groups than the limit is Error(validation).
  Json aggregate(const CallContext& ctx, const Json& query);

 private:
  const FactSetSpec& set_of(const std::string& set) const;
  ServiceDependencies deps_;
  std::string plugin_id_;
  const FactSets& sets_;
};

}  // namespace nucleo::services
