-- 0001 foundation: the tenant fence and the first tenant-owned table.
--
-- Runs as nucleo_owner (docs/architecture.md §3). nucleo_app serves requests under row-level
-- security; nucleo_worker has BYPASSRLS for work that spans tenants. The roles
-- exist before the first migration (docs/adr/0003-postgresql-roles-and-rls.md).

-- The tenant of the current transaction, set by the store with
-- set_config('nucleo.tenant_id', $1, true). Unset or empty means "no tenant":
-- every policy then matches nothing.
CREATE FUNCTION nucleo_current_tenant() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('nucleo.tenant_id', true), '') $$;

-- Every tenant-owned table calls this once: RLS on, one policy with both USING
-- (what can be read, updated, deleted) and WITH CHECK (what can be written), and
-- the grants for the two runtime roles.
CREATE FUNCTION nucleo_enable_tenant_rls(target regclass) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s'
                 ' USING (tenant_id = nucleo_current_tenant())'
                 ' WITH CHECK (tenant_id = nucleo_current_tenant())', target);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO nucleo_app, nucleo_worker', target);
END $$;
REVOKE ALL ON FUNCTION nucleo_enable_tenant_rls(regclass) FROM PUBLIC;

GRANT SELECT ON schema_migrations TO nucleo_app, nucleo_worker;

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
-- A request sees its own tenant row only; creating tenants is the worker's job.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_self ON tenants
  USING (id = nucleo_current_tenant())
  WITH CHECK (id = nucleo_current_tenant());
GRANT SELECT, UPDATE ON tenants TO nucleo_app;
GRANT SELECT, INSERT, UPDATE ON tenants TO nucleo_worker;

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
SELECT nucleo_enable_tenant_rls('accounts');
