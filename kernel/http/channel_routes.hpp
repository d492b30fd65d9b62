#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "kernel/events/jobs.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/channels/accounts (docs/architecture.md §6; admin): create, list, read, update, delete. Secrets
// are write-only. `loaded_plugins`: ids an account may name (nullopt: any).
// POST /v1/channels/accounts/{id}/messages queues an outbound message on `jobs` (null:
// 503), GET /v1/channels/messages/{id} follows it. POST /v1/contacts/{id}/messages sends a
// contact a message as an outbound interaction (services/conversation_service.hpp);
// `channel_kind` says which kind of channel a plugin offers on this node; `config_schemas`
// the schema its channel declares for an account's config.
void add_channel_routes(Router& router, services::ServiceDependencies deps,
                        std::optional<std::set<std::string>> loaded_plugins, events::JobQueue* jobs,
                        std::function<std::string(const std::string&)> channel_kind = nullptr,
                        services::ChannelAccountService::ConfigSchemas config_schemas = nullptr);

}  // namespace nucleo::http
