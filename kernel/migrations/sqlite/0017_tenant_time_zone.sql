-- 0017 a tenant's time zone; see the PostgreSQL migration.
ALTER TABLE tenants ADD COLUMN time_zone text;
