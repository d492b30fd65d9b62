#pragma once

#include "kernel/events/jobs.hpp"
#include "kernel/http/resources.hpp"
#include "kernel/services/conversation_service.hpp"

namespace nucleo::http {

// Proposals (docs/proposals.md): POST /v1/proposals/{id}/send (through a channel
// account when `jobs` is set: the message is queued there), approvals, versions,
// preview, links, proof; and the public link's page, PDF and decision under
// /v1/public/proposals/{token}. `channel_traits`: what channel a plugin offers here.
void add_proposal_routes(Router& router, services::ServiceDependencies deps, events::JobQueue* jobs,
                         services::ConversationService::ChannelKinds channel_traits);

}  // namespace nucleo::http
