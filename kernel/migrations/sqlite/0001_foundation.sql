-- 0001 foundation (SQLite): tenants and the first tenant-owned table.
-- SQLite is single-node and single-role: tenancy is enforced by the repositories'
-- `WHERE tenant_id = ?` alone (PostgreSQL adds row-level security as a second fence).

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  version     integer NOT NULL DEFAULT 1,
  created_at  integer NOT NULL,
  updated_at  integer NOT NULL,
  archived_at integer
);

CREATE TABLE accounts (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  legal_name  text NOT NULL,
  version     integer NOT NULL DEFAULT 1,
  created_at  integer NOT NULL,
  updated_at  integer NOT NULL,
  archived_at integer
);
CREATE INDEX accounts_tenant_updated ON accounts (tenant_id, updated_at, id);
