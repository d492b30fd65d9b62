#pragma once

// Imports as jobs (issue #24, docs/import.md "Imports over HTTP"): an uploaded file kept in
// the database with its mapping, run by whichever node's import runner claims it, with its
// progress readable and its failed rows downloadable.
//
// Exactly once: each batch's rows, their failures and the import's `rows_done` commit in one
// transaction, and that transaction writes only while this runner still holds the import
// (`runner` is its token and nobody asked to cancel) — so a run resumed after a crash or a
// restart reads past the rows already done and writes none twice, and a runner that lost
// the import (silent past `stale_after`, then taken over) cannot write another batch. An
// atomic import or a dry run is one transaction: resumed, it starts again from its first row.
//
//   ImportJobService jobs(deps);
//   Json queued = jobs.create(ctx, mapping, {{"encoding", "windows-1252"}}, "contatos.csv", bytes);
//   jobs.run_one(clock, "node-1", 30s, stopping);  // serve's import runner
//   jobs.get(ctx, queued["id"]);                   // {"status": "done", "progress": {…}}

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/services/call_context.hpp"
#include "kernel/services/record_service.hpp"

namespace nucleo::services {

class ImportJobService {
 public:
  explicit ImportJobService(ServiceDependencies deps) : deps_(deps) {}

  // Checks the mapping and options — {"encoding", "delimiter", "dry_run", "atomic"} —
  // stores the file and queues its import (admin). Returns the import as get() does.
  Json create(const CallContext& ctx, const Json& mapping, const Json& options, const std::string& file_name,
              std::string_view file);
  Json get(const CallContext& ctx, const std::string& id);
  std::vector<Json> list(const CallContext& ctx, std::size_t limit);
  // Asks the import to stop: a queued one is cancelled at once; a running one after the
  // batch under way, which is not written. Rows of earlier batches stay.
  Json cancel(const CallContext& ctx, const std::string& id);
  // The failed rows as CSV (row,line,column,message), in row order, in pieces to `write`
  // (false: the client left). A cell that looks like a formula is quoted with a leading '.
  void write_errors_csv(const CallContext& ctx, const std::string& id,
                        const std::function<bool(std::string_view)>& write);

  // The runner (serve, docs/import.md): claims the oldest import no live runner holds —
  // queued, or running under a runner silent for `stale_after` — and runs it until it ends,
  // is cancelled, or `stopping` (then it is handed back for the next runner at once).
  // An import whose runs keep ending some other way — an error that is not its file's (the
  // database), its node killed — is failed after `max_runs` claims, naming the last error,
  // so it cannot hold the runner (and the imports queued after it) forever.
  // Returns the rows it processed; 0 when nothing was claimed, and then `due_in` says when
  // a running import's runner would count as silent (none: wait for an import to be queued).
  std::size_t run_one(const Clock& clock, const std::string& node_id, std::chrono::milliseconds stale_after,
                      const std::atomic<bool>& stopping, std::optional<std::chrono::milliseconds>* due_in = nullptr);
  static constexpr std::int64_t max_runs = 5;

 private:
  ServiceDependencies deps_;
};

}  // namespace nucleo::services
