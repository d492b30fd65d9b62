-- 0013 outbound channel messages; see the PostgreSQL migration.
CREATE TABLE channel_messages (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  account_id   text NOT NULL,
  recipient    text NOT NULL,
  content      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  external_id  text,
  delivery     text,
  error        text,
  attempts     bigint NOT NULL DEFAULT 0,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);
CREATE INDEX channel_messages_by_account ON channel_messages (tenant_id, account_id, created_at);
