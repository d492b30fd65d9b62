#pragma once

#include "kernel/http/router.hpp"
#include "kernel/plugins/host.hpp"

namespace nucleo::http {

// What the HTTP server mounts for the plugins (docs/architecture.md §6):
//   GET /v1/plugins — every configured plugin: loaded, or why not (admin, auditor);
//   GET|PUT /v1/plugins/{id}/settings — a plugin's settings for the caller's tenant
//     (manifest "tenant_settings"; admin, auditors read);
//   each route a plugin registered, under /v1/x/<plugin id>/<its path>.
// Bearer routes go through the kernel's auth, rate limit and idempotency like any other;
// signed and public routes get no tenant until channel accounts resolve one (Plugins II).
void add_plugin_routes(Router& router, const plugins::PluginHost& host, services::ServiceDependencies deps);

}  // namespace nucleo::http
