-- 0011 channel accounts; see the PostgreSQL migration.
CREATE TABLE channel_accounts (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  plugin_id      text NOT NULL,
  external_id    text NOT NULL,
  name           text,
  config         text NOT NULL,
  secrets_sealed text NOT NULL,
  secret_names   text NOT NULL,
  status         text NOT NULL CHECK (status IN ('active', 'disabled')),
  version        bigint NOT NULL,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  UNIQUE (plugin_id, external_id)
);
CREATE INDEX channel_accounts_by_tenant ON channel_accounts (tenant_id);
