#pragma once

// Small conveniences over the SDK that the vertical packs share: a JSON document's text
// field, an instant in RFC 3339, a record of the store that may not exist, every page of
// a store query, and a registry line split against its header.

#include <cstdint>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/registry.hpp"
#include "nucleo/sdk/plugin.hpp"

namespace nucleo::verticals {

using nucleo::sdk::Json;

// The string at `field` of an object, or "" (absent, null, another type).
inline std::string text(const Json& j, const char* field) {
  const Json& v = j.is_object() ? j.value(field, Json()) : Json();
  return v.is_string() ? v.get<std::string>() : std::string();
}

// "2026-01-01T12:00:00Z" for µs since the epoch (seconds precision).
inline std::string rfc3339(std::int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm t{};
  gmtime_r(&seconds, &t);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &t);
  return out;
}

// The stored record, or nothing when the collection has no such id.
inline std::optional<Json> stored(const sdk::Host& host, const nucleo_call* call, const std::string& collection,
                                  const std::string& id) {
  try {
    return host.store_get(call, collection, id);
  } catch (const sdk::Error& e) {
    if (e.status() == NUCLEO_NOT_FOUND) return std::nullopt;
    throw;
  }
}

// Every page of a store query, each document to `each` ({"id", "version", "document", …}).
template <typename Each>
void each_document(const sdk::Host& host, const nucleo_call* call, const std::string& collection, Json query, Each each) {
  query["limit"] = 200;
  for (;;) {
    Json page = host.store_query(call, collection, query);
    for (auto& d : page["data"]) each(std::move(d));
    if (page["next_cursor"].is_null()) return;
    query["cursor"] = page["next_cursor"];
  }
}

// Every page of a store query at once (where the caller needs all of them: a rollup, an export).
inline std::vector<Json> every_document(const sdk::Host& host, const nucleo_call* call, const std::string& collection,
                                        Json query) {
  std::vector<Json> out;
  each_document(host, call, collection, std::move(query), [&](Json d) { out.push_back(std::move(d)); });
  return out;
}

// The live records of a kernel type (account, deal, …) that a search's filters (all must
// hold) find, as the call's caller sees them, every page up to `cap`.
inline std::vector<Json> records_where(const sdk::Host& host, const nucleo_call* call, const std::string& type,
                                       const Json& filters, std::size_t cap = 1000) {
  std::vector<Json> out;
  Json request{{"type", type}, {"query", {{"filter_groups", Json::array({{{"filters", filters}}})}, {"limit", 100}}}};
  for (;;) {
    Json page = host.call(call, "records.search", request);
    for (auto& a : page["data"]) out.push_back(std::move(a));
    if (page["next"].is_null() || out.size() >= cap) return out;
    request["after"] = page["next"];
  }
}

// A data line's fields, or why it cannot be read (an unclosed quote, another field count
// than the header's).
inline std::variant<std::vector<std::string>, std::string> row_of(const Columns& columns, std::string_view line) {
  std::vector<std::string> row;
  try {
    row = split_fields(line);
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
  if (row.size() != columns.size())
    return "has " + std::to_string(row.size()) + " fields; the header has " + std::to_string(columns.size());
  return row;
}

}  // namespace nucleo::verticals
