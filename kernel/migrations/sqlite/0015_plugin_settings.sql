-- 0015 per-tenant plugin settings; see the PostgreSQL migration.
CREATE TABLE plugin_settings (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  plugin_id      text NOT NULL,
  settings       text NOT NULL,
  secret_names   text NOT NULL,
  secrets_sealed text NOT NULL,
  version        bigint NOT NULL,
  updated_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, plugin_id)
);
