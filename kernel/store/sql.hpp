#pragma once

#include <soci/row.h>
#include <soci/session.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct pg_result;  // libpq's PGresult
struct pg_conn;    // libpq's PGconn

namespace nucleo::store {

// One row of a query's result, from whichever driver answered: SOCI's row, or a row of a
// libpq result when a read went pipelined (Transaction, docs/adr/0038-reads-in-one-round-trip.md).
// Read its columns with text_at() and integer_at(), which treat both alike.
class Row {
 public:
  explicit Row(const soci::row& row) : soci_(&row) {}
  Row(const pg_result* result, int index) : pg_(result), index_(index) {}
  std::size_t size() const;

 private:
  friend std::optional<std::string> text_at(const Row& row, std::size_t column);
  friend std::optional<std::string_view> text_view_at(const Row& row, std::size_t column, std::string& scratch);
  friend std::optional<std::int64_t> integer_at(const Row& row, std::size_t column);
  const soci::row* soci_ = nullptr;
  const pg_result* pg_ = nullptr;
  int index_ = 0;
};

// A bound parameter: NULL, text or a 64-bit integer — every column type Nucleo uses
// maps to one of these (docs/architecture.md §3: times are int64 µs, JSON is text).
using SqlValue = std::variant<std::monostate, std::string, std::int64_t>;

// Statements whose parameter count is only known at run time (generic repositories,
// list filters). Parameters are written `:p0`, `:p1`, … in order of `values`; use
// placeholder(i) to build them so no name is ever repeated (ADR 0001).
std::string placeholder(std::size_t index);
// "(:pN, :pN+1, …)" for an IN list: appends `items` to `values` and names them.
std::string bound_list(const std::vector<std::string>& items, std::vector<SqlValue>& values);
// PostgreSQL's text of a text[] value, bound as one parameter and cast in the SQL
// (`unnest(CAST(:p0 AS text[]))`): each element double-quoted, `"` and `\` escaped.
std::string text_array(const std::vector<std::string>& items);

// Runs a statement; returns the number of rows it changed.
std::int64_t execute(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values);

// Runs a statement whose values are `count` values from `values` (a transaction's appended
// rows as one multi-row INSERT): on a PostgreSQL session that keeps its statements
// prepared, through libpq with the values bound where they lie — SOCI copied each of an
// import batch's thousands of values into a buffer of its own, 18 % of `nucleo import`'s
// CPU. Otherwise as execute(). Returns the number of rows it changed.
std::int64_t execute_values(soci::session& session, const std::string& sql, const SqlValue* values, std::size_t count);

// Runs a query and calls `on_row` for each row.
void query(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
           const std::function<void(const Row&)>& on_row);
// The same, planned with its values on every call rather than with a cached plan: for a
// statement whose best plan depends on them (a search term that is rare or common). A
// PostgreSQL read transaction still keeps it prepared — parsed and rewritten once — and
// asks for a fresh plan each time (`plan_cache_mode`, ADR 0036).
void query_once(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
                const std::function<void(const Row&)>& on_row);

// PostgreSQL sessions in a pool keep their statements prepared (ADR 0009): the same
// SQL text is parsed and planned once per session, not once per call. The pool turns
// this on for each of its sessions, clears it before a reconnect and turns it off
// before closing; any other session runs each statement once.
void keep_prepared_statements(soci::session& session);
void forget_prepared_statements(soci::session& session);
void stop_keeping_prepared_statements(soci::session& session);

// The libpq connection under a PostgreSQL session: for what SOCI does not offer (a
// pipeline, COPY, a script of many statements). The session must be PostgreSQL's.
pg_conn* postgresql_connection(soci::session& session);

// Column readers that accept whatever integer width the driver reports. A column the
// row does not have is an Error(internal), never undefined behaviour: a result of
// another shape than the SQL asked for (a pooler that crossed statements) fails the
// request, not the node (issue #26).
std::optional<std::string> text_at(const Row& row, std::size_t column);
std::optional<std::int64_t> integer_at(const Row& row, std::size_t column);
// text_at() without a copy where the driver holds the text (a libpq result, valid while
// the row is); otherwise the text is copied into `scratch`, which the view then points
// into. For rendering many rows (list and search pages).
std::optional<std::string_view> text_view_at(const Row& row, std::size_t column, std::string& scratch);
// The same for a column that is never NULL: NULL is an Error(internal) too.
std::string required_text(const Row& row, std::size_t column);
std::int64_t required_integer(const Row& row, std::size_t column);

}  // namespace nucleo::store
