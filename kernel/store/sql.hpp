#pragma once

#include <soci/row.h>
#include <soci/session.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nucleo::store {

// A bound parameter: NULL, text or a 64-bit integer — every column type Nucleo uses
// maps to one of these (DESIGN §3: times are int64 µs, JSON is text).
using SqlValue = std::variant<std::monostate, std::string, std::int64_t>;

// Statements whose parameter count is only known at run time (generic repositories,
// list filters). Parameters are written `:p0`, `:p1`, … in order of `values`; use
// placeholder(i) to build them so no name is ever repeated (ADR 0001).
std::string placeholder(std::size_t index);

// Runs a statement; returns the number of rows it changed.
std::int64_t execute(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values);

// Runs a query and calls `on_row` for each row.
void query(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
           const std::function<void(const soci::row&)>& on_row);

// Column readers that accept whatever integer width the driver reports.
std::optional<std::string> text_at(const soci::row& row, std::size_t column);
std::optional<std::int64_t> integer_at(const soci::row& row, std::size_t column);

}  // namespace nucleo::store
