#pragma once

// The bulk import (issue #24, docs/import.md): a CSV file's rows made records of one
// entity through the same services an API write uses — validated and normalised the same
// way, one audit event per record with the import's id as request id. A column mapping
// (domain/import_mapping.hpp) turns each row into a write; references by tax id or e-mail
// are found for a batch of rows at once; with a key (`email` of contacts, `tax_id` of
// accounts, `external_id` of interactions) a row updates the record that has it, else it
// creates one. Rows are written in batches, each in one transaction; a row that cannot be
// written is reported (row, line, column, message) and costs only itself, unless the
// import is atomic (one transaction: one bad row and nothing is written). A dry run does
// everything in one transaction and rolls it back, so its report is what the real run does.
//
//   ImportService(deps).run(ctx, mapping, file, {.dry_run = true}, on_row, on_progress);

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/csv.hpp"
#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

// What became of one data row (row 1 is the first after the header).
struct ImportRow {
  std::size_t row = 0, line = 0;
  std::string action;  // created | updated | unchanged | failed
  std::string id;      // the record's (created, updated, unchanged)
  std::vector<FieldError> errors;  // failed: field is the file's column ("" for the row)
  Json duplicates = Json::array();  // other records with the same e-mail or phone (WriteResult::duplicates)
};

struct ImportReport {
  std::string import_id;  // imp_…: every audit event of the import carries it as request id
  bool dry_run = false, atomic = false, written = false;  // written: committed
  std::size_t rows = 0, created = 0, updated = 0, unchanged = 0, failed = 0;
  double seconds = 0;
  Json to_json() const;
  void count(const ImportRow& row);
};

// Thrown out of ImportService::run when `stop_requested` said so: the batch under way is
// not written (all of an atomic import or a dry run is not).
struct ImportStopped {};

enum class ImportFormat { csv, jsonl };

struct ImportOptions {
  ImportFormat format = ImportFormat::csv;  // jsonl: one JSON object per line, its keys the mapping's columns
  // A format a plugin provides (services/import_formats.hpp), by name; csv, jsonl or
  // empty: `format`. Its rows' fields are mapped as JSON Lines objects are.
  std::string format_name;
  bool dry_run = false;
  bool atomic = false;
  CsvOptions csv;
  std::size_t batch_rows = 500;
  std::string import_id;  // the job's (services/import_jobs.hpp); empty: a new one
  // A resumed run: the totals an earlier run committed; its first `resume.rows` data rows
  // are read past, not written again.
  ImportReport resume;
  // In each batch's transaction, after its rows are written — not for a dry run or an
  // atomic import, whose batches share one transaction: what it records commits with the
  // rows or not at all. It may throw to roll the batch back and stop the run.
  std::function<void(const std::vector<ImportRow>& rows, const ImportReport& totals)> on_batch;
  // Asked before each batch; true stops the run (ImportStopped).
  std::function<bool()> stop_requested;
};

class ImportService {
 public:
  explicit ImportService(ServiceDependencies deps) : deps_(deps) {}

  // The mapping checked as run() would (Error(validation) naming what is wrong); returns
  // the entity type it imports.
  static std::string check_mapping(const Json& mapping);
  // The mapping an import uses: the one given, or (null) the plugin format's own.
  Json mapping_for(const Json& given, const ImportOptions& options) const;
  // The plugin format `options` names (nullopt for csv and jsonl); Error(validation)
  // naming the formats this server reads when it names none of them.
  std::optional<PluginImportFormat> plugin_format(const ImportOptions& options) const;

  // Reads `file` to its end. `on_row` hears every row's outcome in order (a dry run's are
  // what would happen); `on_progress` the running totals after each batch. Only an admin
  // (or the kernel itself) imports. A mapping or file that cannot be read throws
  // Error(validation) before anything is written (or, found past the first batch, after
  // the batches before it — none when atomic or a dry run).
  ImportReport run(const CallContext& ctx, const Json& mapping, std::istream& file, const ImportOptions& options,
                   const std::function<void(const ImportRow&)>& on_row,
                   const std::function<void(const ImportReport&)>& on_progress = {});

 private:
  Error unknown_format(const std::string& name) const;
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
