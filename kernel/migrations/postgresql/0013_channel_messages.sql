-- 0013 outbound channel messages (docs/architecture.md §6): a message sent through a channel
-- account, queued as a job and handed to the plugin's send on a job worker, never on an
-- HTTP thread. The row follows it: queued → sent | failed.
CREATE TABLE channel_messages (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  account_id   text NOT NULL,
  recipient    text NOT NULL,
  content      text NOT NULL,            -- JSON
  status       text NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
  external_id  text,                     -- the channel's id for it, once sent
  delivery     text,                     -- what the channel said (delivery_status)
  error        text,
  attempts     integer NOT NULL DEFAULT 0,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);
CREATE INDEX channel_messages_by_account ON channel_messages (tenant_id, account_id, created_at);
SELECT nucleo_enable_tenant_rls('channel_messages');
