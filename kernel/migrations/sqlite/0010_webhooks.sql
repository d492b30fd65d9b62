-- 0010 outbound webhooks; see the PostgreSQL migration.
CREATE TABLE webhooks (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  url           text NOT NULL,
  events        text NOT NULL,
  description   text,
  status        text NOT NULL CHECK (status IN ('active', 'disabled')),
  secret_sealed text NOT NULL,
  version       bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, status);

CREATE TABLE webhook_deliveries (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  webhook_id   text NOT NULL,
  event_id     text NOT NULL,
  event_name   text NOT NULL,
  attempt      bigint NOT NULL,
  status_code  bigint,
  error        text,
  duration_ms  bigint NOT NULL,
  attempted_at bigint NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, attempted_at);
