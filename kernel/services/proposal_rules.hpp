#pragma once

// Internal to services/: the entity rules of proposals and their templates
// (docs/proposals.md), run inside the write transaction like every entity's
// (entity_rules.cpp).

#include "kernel/services/write.hpp"

namespace nucleo::services {

// A proposal's currency and owner from its deal, its lines resolved (products) and
// priced, a change to a sent revision made revision n+1, a decided proposal kept as it is.
void shape_proposal(Write& w);

// A template's Mustache tags name what a proposal shows; its logo is a PNG; one default.
void check_proposal_template(Write& w);

// The fields that make what a customer reads: a change to any starts a new revision.
bool proposal_content_changed(const Write& w);

}  // namespace nucleo::services
