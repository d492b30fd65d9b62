-- 0024 the unified inbox (docs/channels.md, "The unified inbox"): one row per contact —
-- or per unknown address, for messages kept on no contact — per channel account, kept
-- by services/conversation_service.cpp in the transaction of each message it records.
-- The messages themselves are interactions; `conversation_id` threads them.
CREATE TABLE conversations (
  id                 text PRIMARY KEY,
  tenant_id          text NOT NULL REFERENCES tenants (id),
  channel_account_id text NOT NULL,
  type               text NOT NULL,
  contact_id         text REFERENCES contacts (id),
  address            text,
  party              text NOT NULL,
  last_message_id    text NOT NULL,
  last_message_at    bigint NOT NULL,
  last_direction     text NOT NULL,
  last_inbound_at    bigint,
  unread_count       bigint NOT NULL DEFAULT 0,
  awaiting_reply     bigint NOT NULL DEFAULT 0,
  read_at            bigint,
  answered_at        bigint,
  version            bigint NOT NULL DEFAULT 1,
  created_at         bigint NOT NULL,
  updated_at         bigint NOT NULL
);
CREATE UNIQUE INDEX conversations_party ON conversations (tenant_id, channel_account_id, party);
CREATE INDEX conversations_recent ON conversations (tenant_id, last_message_at, id);
-- The inbox's filters, each in the inbox's order (EXPLAIN in docs/benchmarks.md: without
-- them a filter matching little walked the tenant's conversations).
CREATE INDEX conversations_by_type ON conversations (tenant_id, type, last_message_at, id);
CREATE INDEX conversations_by_account ON conversations (tenant_id, channel_account_id, last_message_at, id);
CREATE INDEX conversations_unanswered ON conversations (tenant_id, last_message_at, id) WHERE awaiting_reply = 1;
CREATE INDEX conversations_contact ON conversations (tenant_id, contact_id);
SELECT nucleo_enable_tenant_rls('conversations');

ALTER TABLE interactions ADD COLUMN conversation_id text;
CREATE INDEX interactions_conversation ON interactions (tenant_id, conversation_id, occurred_at, id)
  WHERE conversation_id IS NOT NULL;

-- What a channel plugin last reported wrong with an account (an expired access token):
-- {"code", "message", "at"}, shown on the account until the plugin clears it.
ALTER TABLE channel_accounts ADD COLUMN problem text;
