-- 0015 per-tenant plugin settings (docs/plugin-authoring.md, "Tenant settings"): what a
-- tenant's admin sets for a plugin against its manifest's "tenant_settings", with the
-- secret ones sealed like channel-account secrets (services/secret_box).
CREATE TABLE plugin_settings (
  tenant_id      text NOT NULL REFERENCES tenants (id),
  plugin_id      text NOT NULL,
  settings       text NOT NULL,   -- JSON object: the non-secret values
  secret_names   text NOT NULL,   -- JSON array: which secrets are set
  secrets_sealed text NOT NULL,   -- SecretBox.seal of the JSON object of secrets
  version        bigint NOT NULL,
  updated_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, plugin_id)
);
SELECT nucleo_enable_tenant_rls('plugin_settings');
