-- 0017 a tenant's time zone: the wall clock its recurring jobs read when a plugin asks
-- for the tenant's (register_job "time_zone": "tenant"; ADR 0023). NULL: UTC.
ALTER TABLE tenants ADD COLUMN time_zone text;
