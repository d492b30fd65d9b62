#include "kernel/store/sql.hpp"

#include "kernel/domain/error.hpp"
#include "kernel/store/pipeline.hpp"
#include "kernel/store/transaction.hpp"

#include <libpq-fe.h>
#include <soci/soci.h>

#include <charconv>
#include <cstdlib>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace nucleo::store {
namespace {

// Storage the statement binds to by reference: it must outlive execution and not move.
struct Bound {
  std::string text;
  long long integer = 0;
  soci::indicator indicator = soci::i_ok;
};

void assign(Bound& b, const SqlValue& value) {
  b.indicator = std::holds_alternative<std::monostate>(value) ? soci::i_null : soci::i_ok;
  if (const auto* s = std::get_if<std::string>(&value)) b.text = *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) b.integer = *i;
}

// NULL and text bind a std::string, integers a long long.
void bind_all(soci::statement& st, std::vector<Bound>& bound, const std::vector<SqlValue>& values) {
  bound.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    assign(bound[i], values[i]);
    if (std::holds_alternative<std::int64_t>(values[i]))
      st.exchange(soci::use(bound[i].integer, bound[i].indicator));
    else
      st.exchange(soci::use(bound[i].text, bound[i].indicator));
  }
}

// A statement ready to run: prepared with its parameters (and, for queries, a row) bound.
struct Prepared {
  explicit Prepared(soci::session& session) : st(session) {}
  soci::statement st;
  std::vector<Bound> bound;
  soci::row row;
};

void prepare(Prepared& p, const std::string& sql, const std::vector<SqlValue>& values, bool returns_rows,
             soci::details::statement_type type) {
  bind_all(p.st, p.bound, values);
  if (returns_rows) p.st.exchange(soci::into(p.row));
  p.st.alloc();
  p.st.prepare(sql, type);
  p.st.define_and_bind();
}

// The statements one pooled PostgreSQL session has prepared, by SQL text and parameter
// kinds. Used by one thread at a time: the session's lease holder.
class StatementCache {
 public:
  static constexpr std::size_t capacity = 512;

  Prepared& get(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
                bool returns_rows, std::string& key) {
    key = sql;
    key.push_back('\x1f');
    for (const auto& v : values) key.push_back(std::holds_alternative<std::int64_t>(v) ? 'i' : 's');
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      for (std::size_t i = 0; i < values.size(); ++i) assign(it->second->bound[i], values[i]);
      return *it->second;
    }
    // Generated search SQL varies; starting over keeps the server's memory bounded.
    if (entries_.size() >= capacity) entries_.clear();
    auto fresh = std::make_unique<Prepared>(session);
    prepare(*fresh, sql, values, returns_rows, soci::details::st_repeatable_query);
    return *entries_.emplace(key, std::move(fresh)).first->second;
  }
  void forget(const std::string& key) { entries_.erase(key); }
  void clear() {
    entries_.clear();
    pipelined.clear();
  }
  // The statements of pipelined reads (Transaction::pipelines_statements), kept apart:
  // libpq runs them, not SOCI.
  PipelinedStatements pipelined;

 private:
  std::unordered_map<std::string, std::unique_ptr<Prepared>> entries_;
};

struct CacheRegistry {
  std::shared_mutex mutex;
  std::unordered_map<const soci::session*, std::unique_ptr<StatementCache>> caches;
};

CacheRegistry& registry() {
  static CacheRegistry r;
  return r;
}

StatementCache* cache_of(const soci::session& session) {
  CacheRegistry& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.caches.find(&session);
  return it == r.caches.end() ? nullptr : it->second.get();
}

// Runs `run` on the session's cached statement, or on a one-time statement when the
// session keeps none. A cached statement that failed is dropped: if the schema changed
// under it, the next call prepares it afresh.
template <class Run>
auto with_statement(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
                    bool returns_rows, Run&& run, bool reuse = true) {
  if (StatementCache* cache = reuse ? cache_of(session) : nullptr) {
    std::string key;
    Prepared* p = nullptr;
    try {
      p = &cache->get(session, sql, values, returns_rows, key);
      return run(*p);
    } catch (...) {
      cache->forget(key);
      throw;
    }
  }
  Prepared once(session);
  prepare(once, sql, values, returns_rows, soci::details::st_one_time_query);
  return run(once);
}

}  // namespace

void keep_prepared_statements(soci::session& session) {
  CacheRegistry& r = registry();
  std::unique_lock lock(r.mutex);
  r.caches[&session] = std::make_unique<StatementCache>();
}

void forget_prepared_statements(soci::session& session) {
  if (StatementCache* cache = cache_of(session)) cache->clear();
}

void stop_keeping_prepared_statements(soci::session& session) {
  CacheRegistry& r = registry();
  std::unique_lock lock(r.mutex);
  r.caches.erase(&session);
}

std::string placeholder(std::size_t index) {
  return ":p" + std::to_string(index);
}

std::string bound_list(const std::vector<std::string>& items, std::vector<SqlValue>& values) {
  std::string list;
  for (const auto& item : items) {
    list += (list.empty() ? "" : ", ") + placeholder(values.size());
    values.push_back(item);
  }
  return "(" + list + ")";
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    out += out.size() > 1 ? ",\"" : "\"";
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// A statement that names a table with rows waiting in its transaction's append buffer
// sends them first (Transaction::append).
void send_appended_rows_for(soci::session& session, const std::string& sql) {
  if (Transaction* tx = Transaction::running_on(session)) tx->send_appended_rows_for(sql);
}

namespace {
// A statement of a PostgreSQL read transaction goes in one round trip (ADR 0038); null
// when the session runs none.
const Transaction* pipelining(const soci::session& session) {
  const Transaction* tx = Transaction::running_on(session);
  return tx != nullptr && tx->pipelines_statements() ? tx : nullptr;
}

std::int64_t pipelined(soci::session& session, const Transaction& tx, const std::string& sql,
                       const std::vector<SqlValue>& values, const std::function<void(const Row&)>* on_row,
                       bool planned_each_time) {
  StatementCache* cache = cache_of(session);
  return run_pipelined(session, tx.tenant_id(), sql, cache ? &cache->pipelined : nullptr, planned_each_time, values,
                       on_row);
}
}  // namespace

std::int64_t execute(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values) {
  if (const Transaction* tx = pipelining(session)) return pipelined(session, *tx, sql, values, nullptr, false);
  send_appended_rows_for(session, sql);
  return with_statement(session, sql, values, false, [](Prepared& p) {
    p.st.execute(true);
    return static_cast<std::int64_t>(p.st.get_affected_rows());
  });
}

std::int64_t execute_values(soci::session& session, const std::string& sql, const SqlValue* values,
                            std::size_t count) {
  StatementCache* cache = pipelining(session) ? nullptr : cache_of(session);
  if (cache == nullptr || session.get_backend_name() != "postgresql")
    return execute(session, sql, std::vector<SqlValue>(values, values + count));
  send_appended_rows_for(session, sql);
  return execute_prepared(session, cache->pipelined, sql, values, count);
}

namespace {
void run_query(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
               const std::function<void(const Row&)>& on_row, bool reuse) {
  if (const Transaction* tx = pipelining(session)) {
    pipelined(session, *tx, sql, values, &on_row, !reuse);
    return;
  }
  send_appended_rows_for(session, sql);
  with_statement(
      session, sql, values, true,
      [&](Prepared& p) {
        if (!p.st.execute(true)) return;
        do {
          on_row(Row(p.row));
        } while (p.st.fetch());
      },
      reuse);
}
}  // namespace

void query(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
           const std::function<void(const Row&)>& on_row) {
  run_query(session, sql, values, on_row, true);
}

void query_once(soci::session& session, const std::string& sql, const std::vector<SqlValue>& values,
                const std::function<void(const Row&)>& on_row) {
  run_query(session, sql, values, on_row, false);
}
namespace {
void require_column(const Row& row, std::size_t column) {
  if (column >= row.size())
    throw Error(ErrorCode::internal, "the database answered " + std::to_string(row.size()) +
                                         " columns where column " + std::to_string(column + 1) + " was expected");
}
[[noreturn]] void throw_null_column(std::size_t column) {
  throw Error(ErrorCode::internal, "the database answered NULL in column " + std::to_string(column + 1) +
                                       ", which is never NULL");
}

constexpr Oid boolean_type = 16;  // PostgreSQL's bool: SOCI reads it as an integer, 1 or 0

// A column of a libpq result, in PostgreSQL's text format, where the result holds it.
std::optional<std::string_view> pg_text(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::nullopt;
  const char* text = PQgetvalue(result, row, column);
  if (PQftype(result, column) == boolean_type) return std::string_view(text[0] == 't' ? "1" : "0");
  return std::string_view(text, static_cast<std::size_t>(PQgetlength(result, row, column)));
}

// Integers as SOCI reads them: whole numbers, booleans as 1/0, a fraction truncated.
std::int64_t pg_integer(std::string_view text, std::size_t column) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc() && end == text.data() + text.size()) return value;
  std::string whole(text);  // strtod wants its end
  char* stop = nullptr;
  double number = std::strtod(whole.c_str(), &stop);
  if (stop != whole.c_str() && *stop == '\0') return static_cast<std::int64_t>(number);
  throw Error(ErrorCode::internal, "the database answered '" + whole + "' in column " + std::to_string(column + 1) +
                                       ", which holds a number");
}
}  // namespace

std::size_t Row::size() const {
  return soci_ ? soci_->size() : static_cast<std::size_t>(PQnfields(pg_));
}

std::optional<std::string> text_at(const Row& r, std::size_t column) {
  require_column(r, column);
  if (r.pg_) {
    auto text = pg_text(r.pg_, r.index_, static_cast<int>(column));
    return text ? std::optional<std::string>(*text) : std::nullopt;
  }
  const soci::row& row = *r.soci_;
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

std::optional<std::string_view> text_view_at(const Row& r, std::size_t column, std::string& scratch) {
  if (r.pg_) {
    require_column(r, column);
    return pg_text(r.pg_, r.index_, static_cast<int>(column));
  }
  auto text = text_at(r, column);
  if (!text) return std::nullopt;
  scratch = std::move(*text);
  return std::string_view(scratch);
}

std::optional<std::int64_t> integer_at(const Row& r, std::size_t column) {
  require_column(r, column);
  if (r.pg_) {
    auto text = pg_text(r.pg_, r.index_, static_cast<int>(column));
    if (!text) return std::nullopt;
    return pg_integer(*text, column);
  }
  const soci::row& row = *r.soci_;
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

std::string required_text(const Row& row, std::size_t column) {
  auto text = text_at(row, column);
  if (!text) throw_null_column(column);
  return std::move(*text);
}

std::int64_t required_integer(const Row& row, std::size_t column) {
  auto number = integer_at(row, column);
  if (!number) throw_null_column(column);
  return *number;
}

}  // namespace nucleo::store
