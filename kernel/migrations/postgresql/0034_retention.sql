-- 0034 retention that runs itself (LGPD arts. 15, 16; docs/compliance.md "Retention";
-- docs/adr/0041-retention-policies.md).
--
-- A tenant's policies say when personal data has served its purpose: contacts with no
-- activity for so long (optionally only those without a purpose's consent), interaction
-- contents older than so long, a plugin's personal documents past a date of their own.
-- The grace period counts from updated_at: a policy changed less than
-- privacy.retention_grace_days ago touches nothing.
CREATE TABLE retention_policies (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  key        text NOT NULL,
  definition text NOT NULL,   -- JSON: entity, after_days and the entity's conditions
  enabled    smallint NOT NULL DEFAULT 1,
  version    bigint NOT NULL DEFAULT 1,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
SELECT nucleo_enable_tenant_rls('retention_policies');

-- Each run (the daily job, or nucleo privacy retention): when, by whom, and per policy
-- what it touched, skipped under a legal hold, or left for the next run. Bookkeeping of
-- the run; each record it erased is audited on its own and the summary as
-- privacy.retention_ran. A run killed midway stays without finished_at.
CREATE TABLE retention_runs (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  started_at  bigint NOT NULL,
  finished_at bigint,
  actor_id    text NOT NULL,
  summary     text
);
CREATE INDEX retention_runs_started ON retention_runs (tenant_id, started_at);
SELECT nucleo_enable_tenant_rls('retention_runs');

-- Retention deletes the sealed values of every event about one record, those still
-- waiting for the sequencer included: the app may see which pending events are about
-- which record of its tenant — never what they hold.
GRANT SELECT (id, tenant_id, entity_type, entity_id) ON audit_pending TO nucleo_app;
