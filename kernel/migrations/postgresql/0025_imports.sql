-- 0025 import jobs (docs/import.md, "Imports over HTTP"; services/import_jobs.hpp): an
-- uploaded file, its mapping and its progress. `rows_done` moves in the transaction of
-- each batch it counts, so a run resumed after a crash starts after the last committed
-- batch and no row is written twice. The runner holding an import says so in `runner`
-- and proves it is alive in `heartbeat_at`; another node takes over a silent one.
CREATE TABLE imports (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id),
  status           text NOT NULL,  -- queued | running | done | failed | cancelled
  entity_type      text NOT NULL,
  mapping          text NOT NULL,  -- JSON
  options          text NOT NULL,  -- JSON: encoding, delimiter, dry_run, atomic
  file_name        text,
  file_bytes       bigint NOT NULL,
  actor            text NOT NULL,  -- JSON: who imports (the audit events' actor)
  rows_done        bigint NOT NULL DEFAULT 0,
  created          bigint NOT NULL DEFAULT 0,
  updated          bigint NOT NULL DEFAULT 0,
  unchanged        bigint NOT NULL DEFAULT 0,
  failed           bigint NOT NULL DEFAULT 0,
  rows_read        bigint NOT NULL DEFAULT 0,
  bytes_read       bigint NOT NULL DEFAULT 0,
  error            text,
  cancel_requested bigint NOT NULL DEFAULT 0,
  runner           text,
  heartbeat_at     bigint,
  created_at       bigint NOT NULL,
  started_at       bigint,
  finished_at      bigint,
  updated_at       bigint NOT NULL
);
CREATE INDEX imports_recent ON imports (tenant_id, created_at, id);
CREATE INDEX imports_unfinished ON imports (created_at) WHERE status IN ('queued', 'running');
SELECT nucleo_enable_tenant_rls('imports');

-- The uploaded file in pieces of at most 1 MiB (base64), read back one at a time.
CREATE TABLE import_chunks (
  tenant_id text NOT NULL REFERENCES tenants (id),
  import_id text NOT NULL REFERENCES imports (id),
  seq       bigint NOT NULL,
  data      text NOT NULL,
  PRIMARY KEY (import_id, seq)
);
SELECT nucleo_enable_tenant_rls('import_chunks');

-- The rows that failed, with each reason: the downloadable error report.
CREATE TABLE import_errors (
  tenant_id text NOT NULL REFERENCES tenants (id),
  import_id text NOT NULL REFERENCES imports (id),
  row_number bigint NOT NULL,
  line      bigint NOT NULL,
  seq       bigint NOT NULL,  -- the reason's place among the row's
  field     text NOT NULL,
  message   text NOT NULL,
  PRIMARY KEY (import_id, row_number, seq)
);
SELECT nucleo_enable_tenant_rls('import_errors');
