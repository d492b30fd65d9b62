#pragma once

// Small pieces every route file of the API shares (docs/architecture.md §7 conventions).

#include <cstdint>
#include <optional>
#include <vector>

#include "kernel/http/exchange.hpp"
#include "kernel/http/resources.hpp"

namespace nucleo::http {

// If-Match: "N" (or W/"N") names the version the client last saw; * or absence
// means any. Anything else cannot match a version: Error(precondition_failed) (412).
std::optional<std::int64_t> expected_version(const ApiRequest& req);

// A single resource with its ETag (the record's "version").
ApiResponse record_response(const Json& record, int status = 200);
// OpenAPI shapes several route files answer: {"data": [item, …]}, a page of them, and a
// deletion's {"id", "deleted": true}.
Json list_schema(Json item);
// A keyset page: {"data": [item, …], "next_cursor": string | null}.
Json page_schema(Json item);
Json deleted_schema();

// A record's ETag: its version, quoted.
std::string etag_of(const Json& record);

// ?limit= within [1, max_page_size], or the default; BadRequest otherwise.
std::size_t page_size(const ApiRequest& req, const ApiSettings& settings);

// Records into a JSON array without copying them (pages hold up to 200).
Json array_of(std::vector<Json>&& records);

// Who may call the routes of one entity type: the roles of its declared policy
// (EntityPolicy) and the scope "<collection>:read" or ":write".
Access access_to_read(const EntitySpec& spec);
Access access_to_change(const EntitySpec& spec);

// A written record with its ETag, and the possible duplicates the write found.
ApiResponse write_response(const services::WriteResult& result, int status = 200);

// Query parameters: a required non-negative integer, an optional RFC 3339 time (as µs);
// BadRequest (400) naming the parameter otherwise.
std::uint64_t count_parameter(const ApiRequest& req, const std::string& name);
// An optional text query parameter ("" when absent).
std::string text_parameter(const ApiRequest& req, const std::string& name);
// An optional true|false query parameter (false when absent; 400 when anything else).
bool flag_parameter(const ApiRequest& req, const std::string& name);
std::optional<std::int64_t> time_parameter(const ApiRequest& req, const std::string& name);

}  // namespace nucleo::http
