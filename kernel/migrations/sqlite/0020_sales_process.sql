-- 0020 the sales process; see the PostgreSQL migration.
ALTER TABLE deals ADD COLUMN approvals text NOT NULL DEFAULT '[]';
ALTER TABLE deals ADD COLUMN stalled_since bigint;
ALTER TABLE tasks ADD COLUMN required_for_exit integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX tasks_open_checklist_item ON tasks (tenant_id, deal_id, origin_rule)
  WHERE kind = 'checklist' AND status = 'open' AND archived_at IS NULL;
CREATE INDEX deals_tenant_open_stage ON deals (tenant_id, stage_id) WHERE status = 'open' AND archived_at IS NULL;
CREATE TABLE task_reminders (
  tenant_id text NOT NULL REFERENCES tenants (id),
  task_id   text NOT NULL REFERENCES tasks (id),
  kind      text NOT NULL,
  due_at    bigint NOT NULL,
  sent_at   bigint NOT NULL,
  PRIMARY KEY (tenant_id, task_id, kind, due_at)
);
