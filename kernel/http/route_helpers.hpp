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

// ?limit= within [1, max_page_size], or the default; BadRequest otherwise.
std::size_t page_size(const ApiRequest& req, const ApiSettings& settings);

// Records into a JSON array without copying them (pages hold up to 200).
Json array_of(std::vector<Json>&& records);

}  // namespace nucleo::http
