#include "kernel/events/jobs.hpp"

#include <Poco/Logger.h>

#include <set>

#include "kernel/domain/digest.hpp"
#include "kernel/domain/error.hpp"
#include "kernel/domain/id.hpp"
#include "kernel/domain/json_text.hpp"
#include "kernel/events/backoff.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::events {
namespace {

using store::integer_at;
using store::text_at;

std::int64_t micros(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::microseconds>(ms).count();
}

// A recurring job's row id: one per job and tenant, so creating it twice is a no-op.
std::string recurring_id(const std::string& name, const std::string& tenant_id) {
  return name + "@" + (tenant_id.empty() ? "global" : tenant_id);
}

Poco::Logger& log() {
  return Poco::Logger::get("nucleo.jobs");
}

}  // namespace

struct JobQueue::Claimed {
  std::string id, name, tenant_id, payload;
  std::string token;  // the batch's lease: "<node id>#<n>"
  bool recurring = false;
  std::int64_t run_at = 0, leased_until = 0;
  int attempt = 0;
};

JobQueue::JobQueue(store::Database& worker, const Clock& clock, JobSettings settings, std::string node_id)
    : worker_(worker),
      clock_(clock),
      settings_(settings),
      node_id_(std::move(node_id)),
      token_prefix_(node_id_ + "#" + random_hex(4) + ".") {}

void JobQueue::add(JobDefinition definition) {
  if (find(definition.name)) throw Error(ErrorCode::conflict, "job " + definition.name + " is registered twice");
  definitions_.push_back(std::move(definition));
  synced_at_ = 0;  // create its rows on the next pass
}

const JobDefinition* JobQueue::find(const std::string& name) const {
  for (const auto& d : definitions_)
    if (d.name == name) return &d;
  return nullptr;
}

std::string JobQueue::enqueue(const std::string& name, const std::string& tenant_id, const Json& payload,
                              Timestamp run_at) {
  const JobDefinition* d = find(name);
  if (!d) throw Error(ErrorCode::not_found, "no job named " + name + " is registered");
  if (d->scope == JobScope::tenant && tenant_id.empty())
    throw Error(ErrorCode::validation, "job " + name + " runs per tenant: enqueue it within a tenant's call");
  return worker_.write("", [&](store::Transaction& tx) {
    return enqueue_job(tx, name, d->scope == JobScope::global ? std::string() : tenant_id, payload, run_at,
                       clock_.now());
  });
}

std::string enqueue_job(store::Transaction& tx, const std::string& name, const std::string& tenant_id,
                        const Json& payload, Timestamp run_at, Timestamp now) {
  std::string id = generate_id(id_prefix::job, now);
  tx.announce(store::Work::jobs);
  store::execute(tx.session(),
                 "INSERT INTO jobs (id, name, tenant_id, payload, run_at, created_at) VALUES (:p0, :p1, :p2, :p3, :p4, :p5)",
                 {id, name, tenant_id, to_json_text(payload), run_at.micros, now.micros});
  return id;
}

// Creates the missing rows of recurring jobs: one per live tenant, or one global. A
// schedule that changed since (a plugin upgrade) moves the row's next run.
void JobQueue::sync_recurring() {
  std::int64_t now = clock_.now().micros;
  if (synced_at_ != 0 && now - synced_at_ < micros(settings_.tenant_sync)) return;
  bool any = false;
  for (const auto& d : definitions_) any = any || d.schedule.has_value();
  if (!any) return;
  std::lock_guard lock(sync_mutex_);
  if (synced_at_ != 0 && now - synced_at_ < micros(settings_.tenant_sync)) return;
  std::vector<std::string> tenants;
  std::map<std::string, std::string> zones;
  worker_.read_one_statement([&](soci::session& session) {
    // Not the tenants the home's directory places on another cluster: that cluster's
    // queue schedules theirs (ADR 0048). Elsewhere the directory is empty.
    store::query(session,
                 "SELECT id, time_zone FROM tenants t WHERE archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
                 " tenant_placements p WHERE p.tenant_id = t.id AND p.cluster <> 'home') ORDER BY id",
                 {},
                 [&](const store::Row& r) {
                   tenants.push_back(store::required_text(r, 0));
                   zones[tenants.back()] = text_at(r, 1).value_or("");
                 });
  });
  // The same tenants in the same zones as at the last sync: the rows are in place (an
  // idle node writes nothing). The first sync always writes: a schedule may have changed.
  if (synced_at_ != 0 && zones == synced_zones_) {
    synced_at_ = now;
    return;
  }
  {
    std::lock_guard zones_lock(zones_mutex_);
    tenant_zones_ = zones;
  }
  worker_.write("", [&](store::Transaction& tx) {
    for (const auto& d : definitions_) {
      if (!d.schedule) continue;
      std::vector<std::string> owners = d.scope == JobScope::global ? std::vector<std::string>{""} : tenants;
      for (const auto& tenant : owners) {
        std::string zone = zone_for(d, tenant);
        std::int64_t first = d.schedule->next_after(Timestamp{now}, zone).micros;
        // A tenant-zoned row names the zone it was scheduled in: when the tenant moves
        // its clock (nucleo tenant set-time-zone) the text differs and the row moves.
        std::string text = d.schedule_text() + (d.time_zone == "tenant" ? " " + (zone.empty() ? "UTC" : zone) : "");
        store::execute(tx.session(),
                       "INSERT INTO jobs (id, name, tenant_id, payload, schedule, run_at, created_at)"
                       " VALUES (:p0, :p1, :p2, '{}', :p3, :p4, :p5) ON CONFLICT (id) DO NOTHING",
                       {recurring_id(d.name, tenant), d.name, tenant, text, first, now});
        // A schedule that changed moves the rows; per tenant only when each has its zone.
        if (d.time_zone == "tenant")
          store::execute(tx.session(),
                         "UPDATE jobs SET schedule = :p0, run_at = :p1 WHERE id = :p2 AND schedule IS NOT NULL"
                         " AND schedule <> :p3",
                         {text, first, recurring_id(d.name, tenant), text});
      }
      if (d.time_zone != "tenant")
        store::execute(tx.session(),
                       "UPDATE jobs SET schedule = :p0, run_at = :p1 WHERE name = :p2 AND schedule IS NOT NULL"
                       " AND schedule <> :p3",
                       {d.schedule_text(), d.schedule->next_after(Timestamp{now}, d.time_zone).micros, d.name,
                        d.schedule_text()});
    }
  });
  synced_zones_ = std::move(zones);
  synced_at_ = now;
}

// A lease or a settlement lost in a crash only runs a job again — jobs run at least
// once anyway (docs/plugin-authoring.md, "Jobs") — so on PostgreSQL their commits do not
// wait for the WAL to reach the disk: two flushes fewer per job (ADR 0026). What a job
// writes through the services commits durably as every write does.
static void without_waiting_for_the_disk(store::Transaction& tx) {
  if (tx.backend() == store::Backend::postgresql)
    store::execute(tx.session(), "SET LOCAL synchronous_commit TO OFF", {});
}

struct JobQueue::Outcome {
  const Claimed* job;
  std::string error;
};

std::vector<JobQueue::Claimed> JobQueue::claim() {
  std::vector<Claimed> jobs;
  if (definitions_.empty()) return jobs;
  std::int64_t now = clock_.now().micros;
  std::vector<store::SqlValue> values{now, now};
  std::vector<std::string> names;
  for (const auto& d : definitions_) names.push_back(d.name);
  // Rows of jobs this node does not run (a plugin not loaded here) are left alone.
  std::string sql =
      "SELECT id, name, tenant_id, payload, schedule, run_at, attempts FROM jobs"
      " WHERE run_at <= :p0 AND dead_at IS NULL AND leased_until < :p1 AND name IN " +
      store::bound_list(names, values) + " ORDER BY run_at LIMIT " + std::to_string(std::max<std::size_t>(settings_.batch, 1));
  if (worker_.backend() == store::Backend::postgresql) sql += " FOR UPDATE SKIP LOCKED";
  std::int64_t leased_until = now + micros(settings_.lease);
  std::string token = token_prefix_ + std::to_string(++batches_);
  worker_.write("", [&](store::Transaction& tx) {
    without_waiting_for_the_disk(tx);
    jobs.clear();  // a retried transaction starts over
    store::query(tx.session(), sql, values, [&](const store::Row& r) {
      jobs.push_back(Claimed{store::required_text(r, 0), store::required_text(r, 1), text_at(r, 2).value_or(""),
                             text_at(r, 3).value_or("{}"), token, text_at(r, 4).has_value(),
                             store::required_integer(r, 5), leased_until,
                             static_cast<int>(integer_at(r, 6).value_or(0)) + 1});
    });
    if (jobs.empty()) return;
    std::vector<std::string> ids;
    for (const auto& j : jobs) ids.push_back(j.id);
    std::vector<store::SqlValue> lease{token, leased_until};
    store::execute(tx.session(),
                   "UPDATE jobs SET leased_by = :p0, leased_until = :p1, attempts = attempts + 1 WHERE id IN " +
                       store::bound_list(ids, lease),
                   lease);
  });
  return jobs;
}

std::string JobQueue::run(const Claimed& job) const {
  Json input{{"job_id", job.id},
             {"name", job.name},
             {"tenant_id", job.tenant_id.empty() ? Json() : Json(job.tenant_id)},
             {"scheduled_at", format_rfc3339(Timestamp{job.run_at})},
             {"payload", Json::parse(job.payload, nullptr, false)},
             {"attempt", job.attempt}};
  try {
    return find(job.name)->run(input);
  } catch (const std::exception& e) {
    return e.what()[0] ? e.what() : "the job failed";
  } catch (...) {
    return "the job failed";
  }
}

// When the next of this node's jobs can be claimed (µs): the earliest due time among
// rows nobody holds, or the earliest end of a lease (a node that died leaves one). One
// statement outside a transaction, two index probes (jobs_due, jobs_lease_ends) — an idle
// worker's whole cost, however many recurring rows the tenants have.
std::optional<std::int64_t> JobQueue::next_due_at(std::int64_t now) {
  if (definitions_.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& d : definitions_) names.push_back(d.name);
  std::vector<store::SqlValue> values{now};
  std::string sql = "SELECT (SELECT MIN(run_at) FROM jobs WHERE dead_at IS NULL AND leased_until < :p0 AND name IN " +
                    store::bound_list(names, values) + "),";
  sql += " (SELECT MIN(leased_until) FROM jobs WHERE dead_at IS NULL AND leased_until >= " +
         store::placeholder(values.size()) + " AND name IN ";
  values.push_back(now);
  sql += store::bound_list(names, values) + ")";
  std::optional<std::int64_t> free_at, lease_ends;
  worker_.read_one_statement([&](soci::session& session) {
    store::query(session, sql, values, [&](const store::Row& r) {
      free_at = integer_at(r, 0);
      lease_ends = integer_at(r, 1);
    });
  });
  if (lease_ends) ++*lease_ends;  // claimable once the lease is over (leased_until < now)
  if (!free_at) return lease_ends;
  return lease_ends ? std::min(*free_at, *lease_ends) : free_at;
}

std::size_t JobQueue::run_once(std::optional<std::chrono::milliseconds>* due_in) {
  sync_recurring();
  std::int64_t now = clock_.now().micros;
  if (auto due = next_due_at(now); !due || *due > now) {
    if (due_in) *due_in = due ? std::optional(std::chrono::milliseconds((*due - now) / 1000 + 1)) : std::nullopt;
    return 0;
  }
  std::vector<Claimed> jobs = claim();
  if (jobs.empty()) return 0;
  {
    std::lock_guard lock(held_mutex_);
    held_[jobs.front().token] = jobs.size();
  }
  struct Unhold {  // however the batch ends
    JobQueue& q;
    std::string token;
    ~Unhold() {
      std::lock_guard lock(q.held_mutex_);
      q.held_.erase(token);
    }
  } unhold{*this, jobs.front().token};
  std::int64_t started = clock_.now().micros;
  std::vector<Outcome> outcomes;
  for (const auto& job : jobs) {
    // A batch is for quick jobs: after a slow one, the rest go back to other workers.
    if (!outcomes.empty() && clock_.now().micros - started > micros(settings_.batch_window)) break;
    outcomes.push_back({&job, run(job)});
  }
  settle(outcomes, std::vector<Claimed>(jobs.begin() + static_cast<std::ptrdiff_t>(outcomes.size()), jobs.end()));
  return outcomes.size();
}

std::string JobQueue::zone_for(const JobDefinition& d, const std::string& tenant) const {
  if (d.time_zone != "tenant") return d.time_zone;
  std::lock_guard lock(zones_mutex_);
  auto it = tenant_zones_.find(tenant);
  if (it == tenant_zones_.end() || it->second.empty()) return "";
  try {
    Schedule::check_zone(it->second);
    return it->second;
  } catch (const Error&) {
    return "";  // a tenant's unknown zone: UTC rather than no run at all
  }
}

// Records the outcomes in one transaction, each only if the row still carries this
// batch's token (else the lease ran out meanwhile and the row is another run's), and
// hands back the jobs the batch did not start, their attempt uncounted.
void JobQueue::settle(const std::vector<Outcome>& outcomes, const std::vector<Claimed>& unstarted) {
  std::int64_t now = clock_.now().micros;
  std::vector<std::string> done;  // one-off jobs that succeeded: deleted together
  for (const auto& o : outcomes)
    if (o.error.empty() && !o.job->recurring) done.push_back(o.job->id);
  std::vector<std::string> handed_back;
  for (const auto& j : unstarted) handed_back.push_back(j.id);
  const std::string& token = outcomes.empty() ? unstarted.front().token : outcomes.front().job->token;
  std::set<std::string> settled;
  worker_.write("", [&](store::Transaction& tx) {
    without_waiting_for_the_disk(tx);
    settled.clear();  // a retried transaction starts over
    // The condition "still under this batch's lease", its value appended to `values`.
    auto ours = [&](std::vector<store::SqlValue>& values) {
      std::string condition = " AND leased_by = " + store::placeholder(values.size());
      values.push_back(token);
      return condition;
    };
    if (!done.empty()) {
      std::vector<store::SqlValue> values;
      std::string sql = "DELETE FROM jobs WHERE id IN " + store::bound_list(done, values);
      sql += ours(values);
      store::query(tx.session(), sql + " RETURNING id", values, [&](const store::Row& r) { settled.insert(store::required_text(r, 0)); });
    }
    for (const auto& o : outcomes) {
      if (o.error.empty() && !o.job->recurring) continue;
      auto [sql, values] = failure_or_next_run(o, now);
      sql += ours(values);
      if (store::execute(tx.session(), sql, values) > 0) settled.insert(o.job->id);
    }
    if (!handed_back.empty()) {
      std::vector<store::SqlValue> values;
      std::string sql = "UPDATE jobs SET leased_by = NULL, leased_until = 0, attempts = attempts - 1 WHERE id IN " +
                        store::bound_list(handed_back, values);
      sql += ours(values);
      store::execute(tx.session(), sql, values);
    }
  });
  for (const auto& o : outcomes) log_outcome(o, settled.count(o.job->id) > 0);
}

// Only leases that have not run out: a row whose lease ended may be another node's claim
// by now (its token differs then, but one being claimed is locked: no waiting on it).
void JobQueue::renew_leases() {
  std::vector<std::string> tokens;
  {
    std::lock_guard lock(held_mutex_);
    for (const auto& [token, count] : held_) tokens.push_back(token);
  }
  if (tokens.empty()) return;
  std::int64_t now = clock_.now().micros;
  std::vector<store::SqlValue> values{now + micros(settings_.lease), now};
  // dead_at IS NULL: the rows are found through jobs_lease_ends (migration 0031), the few
  // whose lease ends in the future, not by reading every job row.
  std::string sql = "UPDATE jobs SET leased_until = :p0 WHERE dead_at IS NULL AND leased_until >= :p1 AND leased_by IN " +
                    store::bound_list(tokens, values);
  worker_.write("", [&](store::Transaction& tx) {
    without_waiting_for_the_disk(tx);
    store::execute(tx.session(), sql, values);
  });
}

void JobQueue::release_leases() {
  const std::string& prefix = token_prefix_;  // every batch token of this process
  std::vector<store::SqlValue> values{static_cast<std::int64_t>(prefix.size()), prefix};
  worker_.write("", [&](store::Transaction& tx) {
    store::execute(tx.session(),
                   "UPDATE jobs SET leased_by = NULL, leased_until = 0, attempts = attempts - 1"
                   " WHERE dead_at IS NULL AND leased_until > 0 AND substr(leased_by, 1, :p0) = :p1",
                   values);
  });
}

std::size_t JobQueue::leases_held() const {
  std::lock_guard lock(held_mutex_);
  std::size_t n = 0;
  for (const auto& [token, count] : held_) n += count;
  return n;
}

std::pair<std::string, std::vector<store::SqlValue>> JobQueue::failure_or_next_run(const Outcome& o,
                                                                                     std::int64_t now) const {
  const Claimed& job = *o.job;
  const JobDefinition* d = find(job.name);
  auto next_scheduled = [&] {
    std::string zone = zone_for(*d, job.tenant_id);
    Timestamp next = d->schedule->next_after(Timestamp{job.run_at}, zone);
    // After downtime, run once now-ish rather than once per missed slot.
    return next.micros > now ? next.micros : d->schedule->next_after(Timestamp{now}, zone).micros;
  };
  bool exhausted = !o.error.empty() && job.attempt >= settings_.max_attempts;
  if (o.error.empty() || (exhausted && job.recurring && d->schedule))
    return {"UPDATE jobs SET run_at = :p0, attempts = 0, leased_by = NULL, leased_until = 0, last_error = :p1,"
            " last_run_at = :p2 WHERE id = :p3",
            {next_scheduled(), o.error.empty() ? store::SqlValue{} : store::SqlValue{o.error}, now, job.id}};
  if (exhausted)
    return {"UPDATE jobs SET dead_at = :p0, leased_by = NULL, leased_until = 0, last_error = :p1, last_run_at = :p2"
            " WHERE id = :p3",
            {now, o.error, now, job.id}};
  return {"UPDATE jobs SET run_at = :p0, leased_by = NULL, leased_until = 0, last_error = :p1, last_run_at = :p2"
          " WHERE id = :p3",
          {now + backoff_micros(settings_.first_retry, settings_.max_retry, job.attempt), o.error, now, job.id}};
}

void JobQueue::log_outcome(const Outcome& o, bool settled) const {
  const Claimed& job = *o.job;
  bool exhausted = !o.error.empty() && job.attempt >= settings_.max_attempts;
  if (!settled)
    log().warning("job %s (%s) outlived its lease: another run owns it now", job.id, job.name);
  else if (exhausted)
    log().warning("job %s (%s) failed %d times%s: %s", job.id, job.name, job.attempt,
                  std::string(job.recurring ? ", skipped to its next run" : ", now dead"), o.error);
  else if (!o.error.empty())
    log().warning("job %s (%s) failed (attempt %d of %d), will retry: %s", job.id, job.name, job.attempt,
                  settings_.max_attempts, o.error);
}

std::size_t purge_jobs_mentioning(store::Transaction& tx, const std::string& tenant_id, const std::string& record_id) {
  const char* contains = tx.backend() == store::Backend::postgresql ? "strpos(payload, :p1) > 0" : "instr(payload, :p1) > 0";
  return static_cast<std::size_t>(store::execute(
      tx.session(), std::string("DELETE FROM jobs WHERE tenant_id = :p0 AND schedule IS NULL AND ") + contains,
      {tenant_id, record_id}));
}

}  // namespace nucleo::events
