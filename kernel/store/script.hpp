#pragma once

#include <soci/session.h>

#include <string_view>

#include "kernel/store/database_url.hpp"

namespace nucleo::store {

// Runs a multi-statement SQL script (a migration file) on the session, inside
// whatever transaction is open. SOCI prepares one statement at a time, so scripts go
// to the drivers' own multi-statement calls: PQexec and sqlite3_exec.
void execute_script(soci::session& session, Backend backend, std::string_view sql);

}  // namespace nucleo::store
