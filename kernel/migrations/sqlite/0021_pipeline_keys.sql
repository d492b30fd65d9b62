-- 0021 stable keys for pipelines and stages; see the PostgreSQL migration.
ALTER TABLE pipelines ADD COLUMN key text;
ALTER TABLE stages ADD COLUMN key text;
CREATE UNIQUE INDEX pipelines_tenant_key ON pipelines (tenant_id, key) WHERE key IS NOT NULL AND archived_at IS NULL;
CREATE UNIQUE INDEX stages_pipeline_key ON stages (pipeline_id, key) WHERE key IS NOT NULL AND archived_at IS NULL;
