#pragma once

#include "kernel/domain/entity.hpp"
#include "kernel/http/router.hpp"
#include "kernel/services/attribute_schemas.hpp"

namespace nucleo::http {

// The OpenAPI 3.1 description generated from the router table and the entity specs,
// so it cannot drift from what the server routes (docs/architecture.md §7).
// Plugins' declared attributes appear in each entity's `attributes` when given.
Json openapi_document(const Router& router, const services::AttributeSchemas* attributes = nullptr);

// Adds GET /v1/openapi.json (no authentication) to the router.
void add_openapi_route(Router& router, const services::AttributeSchemas* attributes = nullptr);

}  // namespace nucleo::http
