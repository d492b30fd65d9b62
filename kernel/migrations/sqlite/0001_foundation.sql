-- 0001 foundation (SQLite): tenants and the first tenant-owned table.
-- SQLite is single-node and single-role: tenancy is enforced by the repositories'
-- `WHERE tenant_id = ?` alone (PostgreSQL adds row-level security as a second fence).
-- 64-bit columns are declared bigint: SOCI reads a column declared `integer` through
-- a 32-bit int, which would cut microsecond timestamps.

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);

CREATE TABLE accounts (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  legal_name  text NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
CREATE INDEX accounts_tenant_updated ON accounts (tenant_id, updated_at, id);
