-- 0039 a deal's expected close dates over time: see ../postgresql/0039_deal_close_history.sql.
CREATE TABLE deal_close_history (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  deal_id        text NOT NULL REFERENCES deals (id),
  expected_close text,
  changed_at     bigint NOT NULL,
  actor_type     text NOT NULL,
  actor_id       text NOT NULL
);
CREATE INDEX deal_close_history_deal ON deal_close_history (deal_id, changed_at);

INSERT INTO deal_close_history (id, tenant_id, deal_id, expected_close, changed_at, actor_type, actor_id)
SELECT 'dch_' || substr(id, 6), tenant_id, id, expected_close, updated_at, 'system', 'migration-0039'
FROM deals WHERE expected_close IS NOT NULL;
