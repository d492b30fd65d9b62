#pragma once

#include <memory>
#include <string>

#include "kernel/store/database_url.hpp"
#include "tests/support/process.hpp"

namespace nucleo::test {

// A fresh, empty database of either backend, for tests parameterised over both.
// SQLite: a file in a temp folder (one role serves all three URLs).
// PostgreSQL: a new database on the shared test server, one URL per role.
struct TestDatabase {
  store::Backend backend;
  std::string app_url, worker_url, owner_url, superuser_url;
  std::shared_ptr<TempDir> directory;  // SQLite only

  store::DatabaseUrl app() const { return store::parse_database_url(app_url); }
  store::DatabaseUrl worker() const { return store::parse_database_url(worker_url); }
  store::DatabaseUrl owner() const { return store::parse_database_url(owner_url); }
};

TestDatabase make_test_database(store::Backend backend);

// For INSTANTIATE_TEST_SUITE_P(..., testing::Values(Backend::sqlite, Backend::postgresql), backend_name).
struct BackendName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return std::string(store::to_string(info.param));
  }
};

}  // namespace nucleo::test
