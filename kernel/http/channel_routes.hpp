#pragma once

#include <optional>
#include <set>
#include <string>

#include "kernel/events/jobs.hpp"
#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/channels/accounts (docs/architecture.md §6; admin): create, list, read, update, delete. Secrets
// are write-only. `loaded_plugins`: ids an account may name (nullopt: any).
// POST /v1/channels/accounts/{id}/messages queues an outbound message on `jobs` (null:
// 503), GET /v1/channels/messages/{id} follows it.
void add_channel_routes(Router& router, services::ServiceDependencies deps,
                        std::optional<std::set<std::string>> loaded_plugins, events::JobQueue* jobs);

}  // namespace nucleo::http
