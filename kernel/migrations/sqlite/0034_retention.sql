-- 0034 retention: see ../postgresql/0034_retention.sql.
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

CREATE TABLE retention_runs (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  started_at  bigint NOT NULL,
  finished_at bigint,
  actor_id    text NOT NULL,
  summary     text
);
CREATE INDEX retention_runs_started ON retention_runs (tenant_id, started_at);
