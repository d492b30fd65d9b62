#pragma once

// Pipelines as data (docs/sales-process.md, "Pipeline templates"): one JSON document
// describes pipelines, their stages, gates and checklists; applying it makes the
// tenant's pipelines match, through the services, in one transaction.
//
//   {"name": "…", "description": "…",
//    "pipelines": [{"key": "licitacao", "name": "Licitação hospitalar",
//                   "stages": [{"key": "edital", "name": "Edital", "probability": 10,
//                               "kind": "open", "rot_days": 10,
//                               "entry_criteria": [{"kind": "checklist", "stage": "habilitacao"}],
//                               "checklist_template": [{"key": "…", "title": "…"}]}],
//                   "move_deals": {"<removed stage key or id>": "<stage key>"}}]}
//
// Pipelines are matched by key, stages by key (or, for a stage without one, by name),
// so a second apply of the same document changes nothing. A checklist criterion names
// its stage by key ("stage"); applying stores the stage's id. Stages the definition no
// longer lists are archived; their live deals must be moved (`move_deals`) or the whole
// apply is refused. Every problem of a bad document is named by its JSON pointer, and
// nothing is written.

#include <string>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::automation {

// What applying did (or, in a dry run, would do):
//   {"dry_run": false, "changed": true, "pipelines": [{"key", "id", "created"}],
//    "changes": [{"op": "create|update|archive|move_deals", "entity": "pipeline|stage",
//                 "key": "…", "id": "…", "fields": {field: {"from", "to"}}, "deals": n}]}
Json apply_pipeline_document(services::ServiceDependencies deps, const services::CallContext& ctx, const Json& document,
                             bool dry_run);

// PUT /v1/pipelines/{id}/definition: one pipeline's definition (an element of a
// document's "pipelines", key optional) applied to pipeline `pipeline_id`.
Json apply_pipeline_definition(services::ServiceDependencies deps, const services::CallContext& ctx,
                               const std::string& pipeline_id, const Json& definition, bool dry_run);

// The definition of an existing pipeline, as apply takes it (GET …/definition).
Json pipeline_definition_of(services::ServiceDependencies deps, const services::CallContext& ctx,
                            const std::string& pipeline_id);

}  // namespace nucleo::automation
