#include "kernel/store/database_error.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "kernel/domain/error.hpp"

namespace nucleo::store {
namespace {

std::string first_line(std::string text) {
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  return text;
}

ErrorCode classify_sqlstate(const std::string& state) {
  if (state == "23505" || state == "23503") return ErrorCode::aborted;
  if (state == "40001" || state == "40P01" || state == "55P03") return ErrorCode::aborted;
  if (state == "42501") return ErrorCode::forbidden;
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P03") return ErrorCode::unavailable;
  return ErrorCode::internal;
}

ErrorCode classify_sqlite(int result) {
  switch (result & 0xff) {  // primary result code
    case SQLITE_CONSTRAINT:
      return ErrorCode::aborted;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::aborted;
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return ErrorCode::unavailable;
    default:
      return ErrorCode::internal;
  }
}

}  // namespace

void rethrow_as_nucleo_error(const std::string& doing) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const soci::postgresql_soci_error& e) {
    throw Error(classify_sqlstate(e.sqlstate()), doing + ": " + first_line(e.get_error_message()));
  } catch (const soci::sqlite3_soci_error& e) {
    throw Error(classify_sqlite(e.result()), doing + ": " + first_line(e.get_error_message()));
  } catch (const soci::soci_error& e) {
    // Connection failures arrive as plain soci_error, with the driver's words.
    ErrorCode code =
        e.get_error_category() == soci::soci_error::connection_error ? ErrorCode::unavailable : ErrorCode::internal;
    throw Error(code, doing + ": " + first_line(e.get_error_message()));
  } catch (const std::exception& e) {
    throw Error(ErrorCode::internal, doing + ": " + first_line(e.what()));
  }
}

void rethrow_as_connection_lost(const std::string& doing) {
  try {
    rethrow_as_nucleo_error(doing);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::internal) throw;
    throw Error(ErrorCode::unavailable, "the database connection was lost (" + std::string(e.what()) + ")");
  }
}

}  // namespace nucleo::store
