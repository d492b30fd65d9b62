#pragma once

#include "kernel/events/outbound_http.hpp"
#include "kernel/http/resources.hpp"

namespace nucleo::http {

// /v1/webhooks (docs/architecture.md §8; admin): create (the secret is in that answer only), list,
// read, update, delete, rotate the secret, and each webhook's delivery log. `outbound`
// checks URLs at creation (null: syntax only).
void add_webhook_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                        const events::OutboundHttp* outbound);

}  // namespace nucleo::http
