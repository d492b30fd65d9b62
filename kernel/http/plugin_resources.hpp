#pragma once

#include "kernel/http/resources.hpp"
#include "kernel/http/router.hpp"
#include "kernel/plugins/host.hpp"

namespace nucleo::http {

// For each collection a loaded plugin declares as a "resource" (plugin.json), the
// kernel's protocol under /v1/x/<plugin id>/<collection>: GET (list: equality and range
// filters on indexes, sort, count, cursor), POST (create, 201 with Location), GET /{id},
// PATCH /{id} (merge patch, If-Match) and DELETE /{id}; the documents held to the
// collection's schema; access by the manifest's roles and "<plugin id>:read|write".
void add_plugin_resource_routes(Router& router, const plugins::PluginHost& host, const ApiSettings& settings);

}  // namespace nucleo::http
