-- 0020 the sales process (docs/sales-process.md): approvals a deal collects for a
-- gated move, when it stalled in its stage, and checklist items that block leaving one.
ALTER TABLE deals ADD COLUMN approvals jsonb NOT NULL DEFAULT '[]';
ALTER TABLE deals ADD COLUMN stalled_since bigint;
ALTER TABLE tasks ADD COLUMN required_for_exit smallint NOT NULL DEFAULT 0;
-- A stage's checklist item is open at most once per deal, however many moves race.
CREATE UNIQUE INDEX tasks_open_checklist_item ON tasks (tenant_id, deal_id, origin_rule)
  WHERE kind = 'checklist' AND status = 'open' AND archived_at IS NULL;
-- The stalled-deal job reads the open deals of one tenant; the agenda an assignee's open tasks.
CREATE INDEX deals_tenant_open_stage ON deals (tenant_id, stage_id) WHERE status = 'open' AND archived_at IS NULL;
-- Reminders fire once per task and due time (task.due_soon, task.overdue).
CREATE TABLE task_reminders (
  tenant_id text NOT NULL REFERENCES tenants (id),
  task_id   text NOT NULL REFERENCES tasks (id),
  kind      text NOT NULL,
  due_at    bigint NOT NULL,
  sent_at   bigint NOT NULL,
  PRIMARY KEY (tenant_id, task_id, kind, due_at)
);
SELECT nucleo_enable_tenant_rls('task_reminders');
