#pragma once

#include <soci/session.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/store/sql.hpp"

namespace nucleo::store {

// SQL written with SOCI's `:name` placeholders, numbered for libpq: `$1, $2, …` in order of
// appearance (each occurrence its own parameter, as SOCI binds them). Quoted text and
// `::` casts are left alone.
std::string numbered_parameters(const std::string& sql);

// The statements one PostgreSQL connection keeps prepared for pipelined reads, by SQL
// text: named apart from SOCI's own (`nucleo_p…`), and bounded like them.
class PipelinedStatements {
 public:
  static constexpr std::size_t capacity = 512;
  struct Statement {
    std::string name, text;  // text: numbered_parameters(sql)
    bool prepared = false;   // on the server; false until its first round trip succeeds
  };
  Statement& of(soci::session& session, const std::string& sql);
  // What each pipeline starts with (the tenant and read-only settings, and whether the
  // statement is planned with its values each time): kept apart, never dropped with the
  // others.
  Statement& prelude(bool as_tenant, bool planned_each_time);
  // After a reconnect the server has forgotten them.
  void clear() {
    statements_.clear();
    for (auto& p : preludes_) p.prepared = false;
  }

 private:
  std::unordered_map<std::string, Statement> statements_;
  Statement preludes_[4];
  std::uint64_t next_name_ = 0;
};

// One statement of a PostgreSQL read transaction in one round trip (ADR 0038): the
// tenant and read-only settings, the statement and a Sync go out in one write, libpq
// pipeline mode, and run as one implicit transaction. `kept`: the connection's prepared
// statements (a statement is prepared in the same round trip on its first use, and again
// if the server forgot it), or null to send everything unnamed. `planned_each_time`: the
// statement's plan depends on its values (a search), so PostgreSQL plans it with them on
// every execution (`plan_cache_mode`), kept prepared or not. Rows go to `on_row` when
// given, once the pipeline is over (a reader may query the session again for each row);
// returns the rows the statement changed. Failures leave as SOCI's PostgreSQL errors,
// SQLSTATE and all, once the pipeline has been read to its end: the connection stays usable.
std::int64_t run_pipelined(soci::session& session, const std::string& tenant_id, const std::string& sql,
                           PipelinedStatements* kept, bool planned_each_time, const std::vector<SqlValue>& values,
                           const std::function<void(const Row&)>* on_row);

// One statement of a write transaction straight through libpq (store::execute_values),
// prepared on its first use and kept in `kept`; the values are bound by pointer. A failure
// leaves as SOCI's PostgreSQL error, SQLSTATE and all, as a SOCI statement's would.
std::int64_t execute_prepared(soci::session& session, PipelinedStatements& kept, const std::string& sql,
                              const SqlValue* values, std::size_t count);

}  // namespace nucleo::store
