#include "kernel/store/sql.hpp"

#include <soci/soci.h>

namespace nucleo::store {
namespace {

// Storage the statement binds to by reference: it must outlive execution and not move.
struct Bound {
  std::string text;
  long long integer = 0;
  soci::indicator indicator = soci::i_ok;
};

std::vector<Bound> bind_all(soci::statement& st, const std::vector<SqlValue>& values) {
  std::vector<Bound> bound(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    Bound& b = bound[i];
    if (std::holds_alternative<std::monostate>(values[i])) {
      b.indicator = soci::i_null;
      st.exchange(soci::use(b.text, b.indicator));
    } else if (const auto* s = std::get_if<std::string>(&values[i])) {
      b.text = *s;
      st.exchange(soci::use(b.text, b.indicator));
    } else {
      b.integer = std::get<std::int64_t>(values[i]);
      st.exchange(soci::use(b.integer, b.indicator));
    }
  }
  return bound;
}

}  // namespace

std::string placeholder(std::size_t index) {
  return ":p" + std::to_string(index);
}

std::int64_t execute(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values) {
  soci::statement st(session);
  auto bound = bind_all(st, values);
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute(true);
  return static_cast<std::int64_t>(st.get_affected_rows());
}

void query(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
           const std::function<void(const soci::row&)>& on_row) {
  soci::row row;
  soci::statement st(session);
  auto bound = bind_all(st, values);
  st.exchange(soci::into(row));
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  if (!st.execute(true)) return;
  do {
    on_row(row);
  } while (st.fetch());
}

std::optional<std::string> text_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_string:
      return row.get<std::string>(column);
    case soci::dt_integer:
      return std::to_string(row.get<int>(column));
    case soci::dt_long_long:
      return std::to_string(row.get<long long>(column));
    case soci::dt_unsigned_long_long:
      return std::to_string(row.get<unsigned long long>(column));
    default:
      return row.get<std::string>(column);
  }
}

std::optional<std::int64_t> integer_at(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<std::int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double:
      return static_cast<std::int64_t>(row.get<double>(column));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(column));
    default:
      return std::nullopt;
  }
}

}  // namespace nucleo::store
