-- 0010 outbound webhooks (docs/architecture.md §8): a tenant's subscriptions of domain events to a
-- URL, signed per Standard Webhooks, and the log of every delivery attempt.
--
-- The signing secret is shown once, at creation (and at rotation), and kept sealed
-- under the deployment's secrets key (secrets.key_file): the kernel must sign with it,
-- so it cannot be a one-way hash like API keys.
CREATE TABLE webhooks (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  url           text NOT NULL,
  events        text NOT NULL,          -- JSON array of patterns: ["deal.*", "contact.created"]
  description   text,
  status        text NOT NULL CHECK (status IN ('active', 'disabled')),
  secret_sealed text NOT NULL,          -- base64(nonce ‖ AES-256-GCM(whsec_…) ‖ tag)
  version       bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, status);
SELECT nucleo_enable_tenant_rls('webhooks');

CREATE TABLE webhook_deliveries (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  webhook_id   text NOT NULL,
  event_id     text NOT NULL,           -- also the webhook-id header
  event_name   text NOT NULL,
  attempt      integer NOT NULL,
  status_code  integer,                 -- NULL: no HTTP answer
  error        text,                    -- NULL: delivered (2xx)
  duration_ms  bigint NOT NULL,
  attempted_at bigint NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, attempted_at);
SELECT nucleo_enable_tenant_rls('webhook_deliveries');
