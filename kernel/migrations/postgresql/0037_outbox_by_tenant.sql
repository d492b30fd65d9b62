-- 0037 a tenant's latest events (docs/automation.md "Dry run"): an automation rule's dry run
-- replays them, newest first. Without this index the scan walked the whole outbox — every
-- tenant's events — backwards to find a quiet tenant's few.
CREATE INDEX outbox_tenant_seq ON outbox (tenant_id, seq);
