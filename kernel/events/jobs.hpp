#pragma once

// The database job queue (docs/architecture.md §8): scheduled work and one-off jobs that survive a
// restart and are safe with several nodes.
//
// Every job is a row of `jobs`. A recurring job has one row per tenant (scope tenant)
// or one for the deployment (scope global), created when the queue starts and for
// tenants added later, moved to its next run time after each run. A one-off job is a row
// enqueued with a payload, deleted once it has run.
//
// A worker claims due rows in a transaction — `FOR UPDATE SKIP LOCKED` on PostgreSQL,
// so nodes never wait on each other's rows — by writing a lease (the batch's token and
// an expiry) and counting the attempt, then runs the jobs outside
// any transaction and settles the rows only if they still carry its token. The token
// names this process too ("<node id>#<process>.<n>"): a node restarted under the same
// id never mistakes a dead process's leases for its own. While a batch
// runs, renew_leases() moves its expiry on (every third of `lease`), so the lease can be
// short — the bound on how long a killed node's jobs wait — however long a job runs. It claims up to `batch` rows at once and
// settles them together (two transactions for the batch rather than two per job: ADR 0027);
// once the batch has run for `batch_window`, the rows it has not started go back to the
// queue, so a slow job holds back no more than itself. A node that dies leaves a lease that
// expires; the job then runs again elsewhere. Delivery is therefore at least once:
// handlers use the job id to ignore repeats. A job that fails is retried with
// exponential back-off; after `max_attempts` a one-off job is dead (kept, with its last
// error) and a recurring one skips to its next scheduled run.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"
#include "kernel/domain/time.hpp"
#include "kernel/events/schedule.hpp"
#include "kernel/store/database.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::events {

// Runs one job: {"job_id","name","tenant_id" (null for global),"scheduled_at","payload",
// "attempt"}. An empty error means done.
using RunJob = std::function<std::string(const Json& job)>;

enum class JobScope { tenant, global };

struct JobDefinition {
  std::string name;                  // unique: "plugin:<id>:<job name>"
  std::optional<Schedule> schedule;  // none: runs only when enqueued
  JobScope scope = JobScope::tenant;
  RunJob run;
  // Whose wall clock a cron schedule reads: "" UTC, "tenant" (each tenant's time_zone;
  // a tenant-scoped job), or an IANA name (America/Sao_Paulo).
  std::string time_zone;
  // What the jobs table keeps as the schedule: a change (a plugin upgrade) moves the rows.
  std::string schedule_text() const {
    return schedule ? schedule->text() + (time_zone.empty() ? "" : " in " + time_zone) : "";
  }
};

struct JobSettings {
  int max_attempts = 8;
  std::chrono::milliseconds first_retry{1000};  // doubles on each attempt…
  std::chrono::milliseconds max_retry{std::chrono::minutes(15)};  // …up to this
  // How long a claimed job stays with its node without renew_leases(): after a node dies,
  // its jobs run elsewhere once this has passed.
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
  // How many due jobs one claim takes, and how long a batch may run before the jobs it
  // has not started go back to the queue for other workers.
  std::size_t batch = 16;
  std::chrono::milliseconds batch_window{1000};
  // How often recurring rows are created for tenants added since.
  std::chrono::milliseconds tenant_sync{std::chrono::minutes(1)};
};

class JobQueue {
 public:
  JobQueue(store::Database& worker, const Clock& clock, JobSettings settings, std::string node_id);

  // Before the first run_once.
  void add(JobDefinition definition);

  // Queues one run of a registered job for `tenant_id` ("" for a global job) at `run_at`.
  // Returns its id. Throws Error(not_found) for a job nobody registered.
  std::string enqueue(const std::string& name, const std::string& tenant_id, const Json& payload, Timestamp run_at);

  // Claims and runs a batch of due jobs (at most settings().batch). Returns how many it
  // ran, 0 if none was due: the caller may sleep until `due_in` (none: until a job is
  // enqueued). Safe to call from several threads.
  std::size_t run_once(std::optional<std::chrono::milliseconds>* due_in = nullptr);

  // Moves on the expiry of every lease this process's batches hold (one statement; none
  // when no batch runs). Call every third of settings().lease at least.
  void renew_leases();
  // Hands back what this process still holds (a clean shutdown, after the workers
  // stopped): the rows are claimable at once, their attempt uncounted. Not what another
  // process under the same node id holds.
  void release_leases();
  // Jobs claimed by this process and not yet settled (for /metrics).
  std::size_t leases_held() const;

  const JobSettings& settings() const { return settings_; }

 private:
  struct Claimed;
  void sync_recurring();
  std::optional<std::int64_t> next_due_at(std::int64_t now);
  struct Outcome;
  std::vector<Claimed> claim();
  std::string run(const Claimed& job) const;
  void settle(const std::vector<Outcome>& outcomes, const std::vector<Claimed>& unstarted);
  // The statement that records one job's failure (or a recurring job's success).
  std::pair<std::string, std::vector<store::SqlValue>> failure_or_next_run(const Outcome& o, std::int64_t now) const;
  void log_outcome(const Outcome& o, bool settled) const;
  const JobDefinition* find(const std::string& name) const;
  // The zone `d`'s schedule reads for `tenant` ("" for UTC); tenants' zones are read at
  // each sync.
  std::string zone_for(const JobDefinition& d, const std::string& tenant) const;

  store::Database& worker_;
  const Clock& clock_;
  JobSettings settings_;
  std::string node_id_;
  mutable std::mutex held_mutex_;
  std::map<std::string, std::size_t> held_;  // batch token → jobs claimed, while the batch runs
  std::string token_prefix_;                 // "<node id>#<random>.": this process's batch tokens
  std::atomic<std::uint64_t> batches_{0};    // for the next batch's token
  std::vector<JobDefinition> definitions_;
  std::mutex sync_mutex_;
  std::atomic<std::int64_t> synced_at_{0};
  std::map<std::string, std::string> synced_zones_;  // the tenants the rows were made for (under sync_mutex_)
  mutable std::mutex zones_mutex_;
  std::map<std::string, std::string> tenant_zones_;  // tenant id → its time_zone
};

// Queues one run of a tenant's job inside the caller's transaction, so the job exists
// exactly when the work that asked for it commits (a data-subject report queued with the
// request's step). The name must be one a JobQueue of the deployment registers; a name
// nobody registers stays queued. Returns the job's id.
std::string enqueue_job(store::Transaction& tx, const std::string& name, const std::string& tenant_id,
                        const Json& payload, Timestamp run_at, Timestamp now);

// Erasure (ADR 0012): deletes the tenant's pending one-off jobs whose payload mentions
// `record_id` (a webhook delivery carrying an erased contact's event), in the caller's
// transaction. Returns how many.
std::size_t purge_jobs_mentioning(store::Transaction& tx, const std::string& tenant_id, const std::string& record_id);

}  // namespace nucleo::events
