#pragma once

#include <soci/session.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/domain/time.hpp"
#include "kernel/store/database_url.hpp"

namespace nucleo::store {

// One numbered SQL file from kernel/migrations/<dialect>/NNNN_name.sql, compiled into
// the binary so a deployed `nucleo` carries its own schema.
struct Migration {
  int version = 0;
  std::string name;
  std::string_view sql;
};

// "0001_foundation", as the file is named.
std::string migration_label(const Migration& m);

// The migrations this binary ships for a backend, in version order.
const std::vector<Migration>& bundled_migrations(Backend backend);

struct SchemaStatus {
  int current_version = 0;  // highest applied; 0 for an empty database
  int latest_version = 0;   // highest this binary ships
  std::vector<int> pending;
  bool is_current() const { return pending.empty() && current_version == latest_version; }
};

SchemaStatus schema_status(soci::session& session, Backend backend);

// Applies every pending migration in one transaction and records each in
// `schema_migrations`: either all land or none does. On PostgreSQL an advisory
// lock makes concurrent `nucleo migrate` runs queue instead of racing. Running it on a
// current schema changes nothing. Returns what it applied.
std::vector<Migration> migrate(soci::session& owner_session, Backend backend, const Clock& clock,
                               const std::function<void(const Migration&)>& on_applied = {});

}  // namespace nucleo::store
