-- 0009 job queue (docs/architecture.md §8): scheduled and one-off jobs, claimed by leases.
--
-- A recurring job has one row per tenant (or one global row, tenant_id ''), its id
-- "<job name>@<tenant id|global>", moved to its next run after each run. A one-off job
-- (schedule NULL) is deleted once done, or kept with dead_at after its last attempt.
-- The worker runs the queue across tenants (it bypasses row-level security); requests
-- see their own tenant's rows only — an erasure drops the pending jobs that carry the
-- erased person's data.
CREATE TABLE jobs (
  id           text PRIMARY KEY,
  name         text NOT NULL,           -- "plugin:<id>:<job name>"
  tenant_id    text NOT NULL,           -- '' for a global job
  payload      text NOT NULL,           -- JSON
  schedule     text,                    -- "every 5m" | "cron …"; NULL: one-off
  run_at       bigint NOT NULL,         -- due from then on
  attempts     integer NOT NULL DEFAULT 0,
  leased_by    text,                    -- the node running it
  leased_until bigint NOT NULL DEFAULT 0,
  last_error   text,
  last_run_at  bigint,
  dead_at      bigint,
  created_at   bigint NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE dead_at IS NULL;
CREATE INDEX jobs_by_tenant ON jobs (tenant_id);
SELECT nucleo_enable_tenant_rls('jobs');
