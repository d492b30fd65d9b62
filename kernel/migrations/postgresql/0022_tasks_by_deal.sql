-- 0022 a deal's tasks by their origin: what a stage gate's checklist criterion and the
-- checklist opener read on every move (measured: without it, the tenant's done tasks
-- were walked through tasks_tenant_due on each gated move).
CREATE INDEX tasks_deal_origin ON tasks (deal_id, origin_rule);
