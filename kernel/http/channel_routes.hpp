#pragma once

#include <optional>
#include <set>
#include <string>

#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/channels/accounts (DESIGN §6; admin): create, list, read, update, delete. Secrets
// are write-only. `loaded_plugins`: ids an account may name (nullopt: any).
void add_channel_routes(Router& router, services::ServiceDependencies deps,
                        std::optional<std::set<std::string>> loaded_plugins);

}  // namespace nucleo::http
