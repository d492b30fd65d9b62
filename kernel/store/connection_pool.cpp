#include "kernel/store/connection_pool.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

#include <filesystem>

#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"
#include "kernel/domain/search_fold.hpp"
#include "kernel/store/database_error.hpp"

namespace nucleo::store {
namespace {

// docs/architecture.md §3: WAL so readers never block the writer; a busy timeout so a second writer
// waits for the lock instead of failing at once.
// nucleo_fold(text): the search fold of kernel/domain/search_fold.hpp, which
// PostgreSQL gets as a SQL function from migration 0004.
void sqlite_fold(sqlite_api::sqlite3_context* context, int, sqlite_api::sqlite3_value** args) {
  if (sqlite_api::sqlite3_value_type(args[0]) == SQLITE_NULL) return sqlite_api::sqlite3_result_null(context);
  const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_value_text(args[0]));
  std::string folded = fold_for_search(text == nullptr ? "" : text);
  sqlite_api::sqlite3_result_text(context, folded.data(), static_cast<int>(folded.size()),
                                  reinterpret_cast<sqlite_api::sqlite3_destructor_type>(-1));  // SQLITE_TRANSIENT
}

void configure_sqlite(soci::session& session) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  sqlite_api::sqlite3_create_function_v2(backend->conn_, "nucleo_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                         sqlite_fold, nullptr, nullptr, nullptr);
  session << "PRAGMA journal_mode = WAL";
  session << "PRAGMA busy_timeout = 5000";
  session << "PRAGMA foreign_keys = ON";
  session << "PRAGMA synchronous = NORMAL";
  // Deleted and overwritten content is zeroed, not left in free pages: erasure of
  // personal data (docs/architecture.md §5) must not leave it readable in the file.
  session << "PRAGMA secure_delete = ON";
}

void ensure_parent_directory(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec)
    throw Error(ErrorCode::unavailable,
                "cannot create the directory '" + parent.string() + "' for the SQLite database: " + ec.message());
}

bool postgresql_connection_ok(soci::session& session) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend != nullptr && PQstatus(backend->conn_) == CONNECTION_OK;
}

// Drivers answer in several lines ("Cannot establish connection…\nconnection to
// server at … failed: Connection refused\n\tIs the server running…"); a CLI prints
// one line, so keep the driver's specific sentence and fold the rest.
std::string one_line_reason(std::string text) {
  const std::string soci_preamble = "Cannot establish connection to the database.";
  if (text.rfind(soci_preamble, 0) == 0) text.erase(0, soci_preamble.size());
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == ' ') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

void open_session(soci::session& session, const DatabaseUrl& url) {
  try {
    if (url.backend == Backend::sqlite) {
      ensure_parent_directory(url.sqlite_path);
      session.open(soci::sqlite3, url.connect_string);
      configure_sqlite(session);
    } else {
      session.open(soci::postgresql, url.connect_string);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::unavailable, "cannot connect to " + url.display + ": " + one_line_reason(e.what()));
  }
}

ConnectionPool::ConnectionPool(DatabaseUrl url, std::size_t size)
    : url_(std::move(url)), size_(size == 0 ? 1 : size), pool_(size_) {
  for (std::size_t i = 0; i < size_; ++i) {
    store::open_session(pool_.at(i), url_);
    if (url_.backend == Backend::postgresql && url_.prepared_statements) keep_prepared_statements(pool_.at(i));
  }
}

ConnectionPool::~ConnectionPool() {
  // The prepared statements go first: they deallocate through their session.
  for (std::size_t i = 0; i < size_; ++i) stop_keeping_prepared_statements(pool_.at(i));
}

ConnectionPool::Lease ConnectionPool::lease(std::chrono::milliseconds timeout) {
  std::size_t position = 0;
  ++waiting_;
  bool leased = pool_.try_lease(position, static_cast<int>(timeout.count()));
  --waiting_;
  if (!leased)
    throw Error(ErrorCode::unavailable,
                "no database connection became free within " + std::to_string(timeout.count()) + " ms");
  ++in_use_;
  Lease lease(this, position);
  // A PostgreSQL restart leaves sessions dead; reconnect them here rather than fail
  // every request that happens to draw one. PQstatus is local (no round trip): a
  // session that died unnoticed fails its next statement and is reconnected after.
  if (url_.backend == Backend::postgresql && !postgresql_connection_ok(lease.session())) {
    try {
      forget_prepared_statements(lease.session());  // they died with the old connection
      lease.session().reconnect();
    } catch (...) {
      rethrow_as_nucleo_error("cannot reconnect to " + url_.display);
    }
  }
  return lease;
}

bool ConnectionPool::connection_lost(Lease& lease) const {
  return url_.backend == Backend::postgresql && !postgresql_connection_ok(lease.session());
}

ConnectionPool::Lease::Lease(ConnectionPool* owner, std::size_t position)
    : owner_(owner), position_(position), session_(&owner->pool_.at(position)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : owner_(other.owner_), position_(other.position_), session_(other.session_) {
  other.owner_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
  if (owner_ == nullptr) return;
  owner_->pool_.give_back(position_);
  --owner_->in_use_;
}

}  // namespace nucleo::store
