#pragma once

#include <memory>
#include <string>

#include "kernel/services/record_service.hpp"
#include "kernel/services/tenant_service.hpp"
#include "tests/support/test_database.hpp"

namespace nucleo::test {

// A migrated database of either backend with the services wired as `serve` wires
// them (request pool + worker pool), a manual clock, and a fresh tenant to act in.
class ServiceHarness {
 public:
  explicit ServiceHarness(store::Backend backend, std::size_t pool_size = 4,
                          std::chrono::milliseconds lease_timeout = std::chrono::seconds(10));

  services::ServiceDependencies deps() {
    return {*app_, worker_ ? *worker_ : *app_, validators, normalisation, sensitive, secrets,
            attribute_schemas, customer_extensions, import_formats};
  }
  services::RecordService records() { return services::RecordService(deps()); }
  store::Database& database() { return *app_; }

  // A context acting as a user-less admin key in `tenant_id`.
  services::CallContext context(const std::string& tenant_id) const;
  std::string create_tenant(const std::string& name);

  // Row counts as the worker role sees them (all tenants).
  int count(const std::string& sql);
  // Where `text` is still stored. PostgreSQL: every table whose rows mention it, read
  // as the superuser (past row-level security), and every file of the database's
  // directory holding its bytes (dead row versions until VACUUM). SQLite: "database
  // file" or "wal file" when the bytes on disk hold it — live rows, free pages or old
  // page images alike.
  std::vector<std::string> places_holding(const std::string& text);
  // PostgreSQL: what docs/compliance.md tells the owner to run after an erasure —
  // VACUUM FULL, which rewrites tables and indexes; a plain VACUUM leaves the bytes of
  // dead rows in their pages (measured: the e-mail stayed in five files).
  void vacuum();
  // The first column of each row, parsed as JSON (jsonb on PostgreSQL, text on SQLite).
  std::vector<Json> json_column(const std::string& sql);

  store::Backend backend;
  TestDatabase db;
  ManualClock clock{Timestamp{1'782'864'000'000'000}};  // 2026-07-01T00:00:00Z
  services::ValidatorRegistry validators;
  services::AttributeSchemas attribute_schemas;
  services::CustomerExtensions customer_extensions;
  services::ImportFormats import_formats;
  NormalisationSettings normalisation;
  services::SensitiveData sensitive;  // nothing marked unless a test marks it
  services::SecretBox secrets = services::SecretBox::generate();
  std::string tenant;  // created by the constructor

 private:
  std::unique_ptr<store::Database> app_, worker_;
};

}  // namespace nucleo::test
