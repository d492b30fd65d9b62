#pragma once

// A tenant's rows, table by table, between two PostgreSQL databases of the same schema
// (`nucleo tenant move`, ADR 0048). Sessions of the schema owner, which row-level
// security does not filter. Tables are every table of the public schema with a
// tenant_id column, plus `tenants` (keyed by id), parents before children by their
// foreign keys, so a new table is moved without a change here.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <soci/session.h>

namespace nucleo::store {

// The tenant's tables in the order a copy fills them (deletion runs it backwards).
std::vector<std::string> tenant_tables(soci::session& owner);

// Rows of the tenant in `table` (tenants: its one row).
std::int64_t tenant_rows(soci::session& session, const std::string& table, const std::string& tenant_id);

// Streams the tenant's rows of `table` from `source` into `target` with COPY, inside
// whatever transaction each session has open; generated columns are left to the target.
// Returns the rows copied.
std::int64_t copy_tenant_rows(soci::session& source, soci::session& target, const std::string& table,
                              const std::string& tenant_id);

// The tenant's own row on `target` made what it is on `source` (a move back to the home
// cluster, which keeps every tenant's row for its directory).
void refresh_tenant_row(soci::session& source, soci::session& target, const std::string& tenant_id);

// Deletes the tenant's rows of `table`, its append-only triggers (the audit log, the
// consent ledger) set aside for this statement's transaction. Returns the rows deleted.
std::int64_t delete_tenant_rows(soci::session& owner, const std::string& table, const std::string& tenant_id);

}  // namespace nucleo::store
