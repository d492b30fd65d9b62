-- 0037 a tenant's latest events: see ../postgresql/0037_outbox_by_tenant.sql.
CREATE INDEX outbox_tenant_seq ON outbox (tenant_id, seq);
