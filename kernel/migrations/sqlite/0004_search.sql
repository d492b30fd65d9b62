-- 0004 search (SQLite): nucleo_fold() is registered on every connection by the store
-- (kernel/store/connection_pool.cpp) rather than created here; SQLite has no trigram
-- index, so `contains` scans. Indexes for the common equality filters:
CREATE INDEX deals_tenant_status ON deals (tenant_id, status);
CREATE INDEX accounts_tenant_lifecycle ON accounts (tenant_id, lifecycle);
