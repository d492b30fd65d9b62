-- 0039 a deal's expected close dates over time (issue #33, docs/insight.md): every change
-- of `expected_close` is a row, so how often and how far a deal's close date slipped can
-- be read back as of any day — the sibling of deal_stage_history. Deals that already
-- have an expected close get one row, dated at their last change (the latest moment the
-- date can have been set: nothing learned from it is earlier than it was known).
CREATE TABLE deal_close_history (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  deal_id        text NOT NULL REFERENCES deals (id),
  expected_close text,            -- YYYY-MM-DD; null: cleared
  changed_at     bigint NOT NULL,
  actor_type     text NOT NULL,
  actor_id       text NOT NULL
);
CREATE INDEX deal_close_history_deal ON deal_close_history (deal_id, changed_at);
SELECT nucleo_enable_tenant_rls('deal_close_history');

INSERT INTO deal_close_history (id, tenant_id, deal_id, expected_close, changed_at, actor_type, actor_id)
SELECT 'dch_' || substr(id, 6), tenant_id, id, expected_close, updated_at, 'system', 'migration-0039'
FROM deals WHERE expected_close IS NOT NULL;
