-- 0022 a deal's tasks by their origin; see the PostgreSQL migration.
CREATE INDEX tasks_deal_origin ON tasks (deal_id, origin_rule);
