-- 0011 channel accounts (docs/architecture.md §6): a tenant's account on a channel a plugin serves —
-- a WhatsApp phone_number_id, a mailbox — with its settings and secrets. Inbound
-- webhooks arrive at the plugin's signed routes without a tenant; the plugin resolves
-- the account by its external id, which is therefore unique per plugin across tenants.
CREATE TABLE channel_accounts (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  plugin_id      text NOT NULL,
  external_id    text NOT NULL,
  name           text,
  config         text NOT NULL,        -- JSON object
  secrets_sealed text NOT NULL,        -- base64(nonce ‖ AES-256-GCM(JSON object) ‖ tag)
  secret_names   text NOT NULL,        -- JSON array: which secrets are set (never their values)
  status         text NOT NULL CHECK (status IN ('active', 'disabled')),
  version        bigint NOT NULL,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  UNIQUE (plugin_id, external_id)
);
CREATE INDEX channel_accounts_by_tenant ON channel_accounts (tenant_id);
SELECT nucleo_enable_tenant_rls('channel_accounts');
