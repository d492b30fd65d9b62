#pragma once

#include <string>
#include <string_view>

namespace nucleo::store {

enum class Backend { postgresql, sqlite };

std::string_view to_string(Backend backend);

// A parsed `store.*_url` value. Accepted forms:
//   sqlite:var/nucleo.db                     (path relative to the working directory)
//   postgresql://user:pass@host:5432/db?...  (libpq URI; postgres:// too)
//   postgresql:host=h port=5432 dbname=db    (libpq keyword/value string)
struct DatabaseUrl {
  Backend backend = Backend::sqlite;
  std::string connect_string;  // what SOCI's backend factory receives
  std::string display;         // for logs and messages: the password is never shown
  std::string sqlite_path;     // set for sqlite only
  // PostgreSQL: pooled sessions keep their statements prepared (ADR 0009). Off behind a
  // transaction pooler (PgBouncer's pool_mode = transaction), where consecutive
  // transactions of one connection reach different server sessions and a named
  // statement would find another's — or none (store.prepared_statements, issue #26).
  bool prepared_statements = true;
};

// Throws nucleo::Error(validation) naming what is wrong with the text.
// PostgreSQL connections get `connect_timeout=5` unless the URL sets one, so an
// unreachable server fails in seconds instead of hanging (issue #2).
DatabaseUrl parse_database_url(std::string_view text);

}  // namespace nucleo::store
