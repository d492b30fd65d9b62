#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "kernel/events/jobs.hpp"
#include "kernel/services/channel_account_service.hpp"
#include "kernel/services/conversation_service.hpp"
#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/channels/accounts (docs/architecture.md §6; admin): create, list, read, update, delete. Secrets
// are write-only. `loaded_plugins`: ids an account may name (nullopt: any).
// POST /v1/channels/accounts/{id}/messages queues an outbound message on `jobs` (null:
// 503), GET /v1/channels/messages/{id} follows it. POST /v1/contacts/{id}/messages sends a
// contact a message as an outbound interaction (services/conversation_service.hpp);
// `channel_traits` says which channel a plugin offers on this node; `config_schemas`
// the schema its channel declares for an account's config.
void add_channel_routes(Router& router, services::ServiceDependencies deps,
                        std::optional<std::set<std::string>> loaded_plugins, events::JobQueue* jobs,
                        services::ConversationService::ChannelKinds channel_traits = nullptr,
                        services::ChannelAccountService::ConfigSchemas config_schemas = nullptr);

// The unified inbox (docs/channels.md): GET /v1/conversations, one conversation, its
// messages, and marking it read or answered.
void add_conversation_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                             services::ConversationService::ChannelKinds channel_traits);

}  // namespace nucleo::http
