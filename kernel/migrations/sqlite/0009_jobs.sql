-- 0009 job queue; see the PostgreSQL migration.
CREATE TABLE jobs (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  tenant_id    text NOT NULL,
  payload      text NOT NULL,
  schedule     text,
  run_at       bigint NOT NULL,
  attempts     bigint NOT NULL DEFAULT 0,
  leased_by    text,
  leased_until bigint NOT NULL DEFAULT 0,
  last_error   text,
  last_run_at  bigint,
  dead_at      bigint,
  created_at   bigint NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE dead_at IS NULL;
CREATE INDEX jobs_by_tenant ON jobs (tenant_id);
