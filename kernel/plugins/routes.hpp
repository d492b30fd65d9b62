#pragma once

#include <vector>

#include "kernel/http/exchange.hpp"
#include "kernel/plugins/host.hpp"

namespace nucleo::plugins {

// What the HTTP server mounts for the plugins (DESIGN §6):
//   GET /v1/plugins — every configured plugin: loaded, or why not (admin, auditor);
//   each route a plugin registered, under /v1/x/<plugin id>/<its path>.
// Bearer routes go through the kernel's auth, rate limit and idempotency like any other;
// signed and public routes get no tenant until channel accounts resolve one (Plugins II).
std::vector<http::Route> plugin_http_routes(const PluginHost& host);

}  // namespace nucleo::plugins
