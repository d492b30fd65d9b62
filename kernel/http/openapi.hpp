#pragma once

#include "kernel/domain/entity.hpp"
#include "kernel/http/router.hpp"

namespace nucleo::http {

// The OpenAPI 3.1 description generated from the router table and the entity specs,
// so it cannot drift from what the server routes (DESIGN §7).
Json openapi_document(const Router& router);

// Adds GET /v1/openapi.json (no authentication) to the router.
void add_openapi_route(Router& router);

}  // namespace nucleo::http
