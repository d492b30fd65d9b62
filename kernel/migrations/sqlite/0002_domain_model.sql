-- 0002 domain model (docs/architecture.md §4): users and teams, API keys, accounts, contacts,
-- pipelines and stages, deals with stage history, interactions, tasks, products;
-- the contact points that find duplicates; audit_pending and the outbox.
--
-- SQLite dialect of the same step: JSON as text, no row-level security or grants
-- (single role; see ADR 0002). 64-bit columns are declared bigint: SOCI reads a
-- column declared `integer` through a 32-bit int.

CREATE TABLE users (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  email       text NOT NULL,
  role        text NOT NULL,
  time_zone   text,
  active      integer NOT NULL DEFAULT 1,
  team_ids    text NOT NULL DEFAULT '[]',
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);

CREATE TABLE teams (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL,
  role         text NOT NULL,
  scopes       text NOT NULL DEFAULT '[]',
  user_id      text REFERENCES users (id),
  integration  integer NOT NULL DEFAULT 0,
  secret_hash  text NOT NULL,
  expires_at   bigint,
  revoked_at   bigint,
  last_used_at bigint,
  version      bigint NOT NULL DEFAULT 1,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL,
  archived_at  bigint
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

ALTER TABLE accounts ADD COLUMN trade_name text;
ALTER TABLE accounts ADD COLUMN tax_id text;
ALTER TABLE accounts ADD COLUMN tax_id_country text;
ALTER TABLE accounts ADD COLUMN tax_id_kind text;
ALTER TABLE accounts ADD COLUMN domain text;
ALTER TABLE accounts ADD COLUMN phones text NOT NULL DEFAULT '[]';
ALTER TABLE accounts ADD COLUMN emails text NOT NULL DEFAULT '[]';
ALTER TABLE accounts ADD COLUMN address text;
ALTER TABLE accounts ADD COLUMN owner_id text REFERENCES users (id);
ALTER TABLE accounts ADD COLUMN lifecycle text NOT NULL DEFAULT 'lead';
ALTER TABLE accounts ADD COLUMN attributes text NOT NULL DEFAULT '{}';
-- One live account per tax id in a tenant (docs/architecture.md §4: a second one is a 409).
CREATE UNIQUE INDEX accounts_tenant_tax_id ON accounts (tenant_id, tax_id_country, tax_id)
  WHERE tax_id IS NOT NULL AND archived_at IS NULL;

CREATE TABLE contacts (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  account_id  text REFERENCES accounts (id),
  email       text,
  phone       text,
  job_title   text,
  consent     text NOT NULL DEFAULT '{}',
  owner_id    text REFERENCES users (id),
  attributes  text NOT NULL DEFAULT '{}',
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
CREATE INDEX contacts_tenant_updated ON contacts (tenant_id, updated_at, id);
CREATE INDEX contacts_account ON contacts (account_id);

CREATE TABLE pipelines (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  attributes  text NOT NULL DEFAULT '{}',
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);

CREATE TABLE stages (
  id                 text PRIMARY KEY,
  tenant_id          text NOT NULL REFERENCES tenants (id),
  pipeline_id        text NOT NULL REFERENCES pipelines (id),
  name               text NOT NULL,
  position           bigint NOT NULL,
  probability        bigint NOT NULL DEFAULT 0,
  kind               text NOT NULL DEFAULT 'open',
  rot_days           bigint,
  entry_criteria     text NOT NULL DEFAULT '[]',
  checklist_template text NOT NULL DEFAULT '[]',
  version            bigint NOT NULL DEFAULT 1,
  created_at         bigint NOT NULL,
  updated_at         bigint NOT NULL,
  archived_at        bigint
);
CREATE INDEX stages_pipeline ON stages (pipeline_id, position);

CREATE TABLE deals (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id),
  name             text NOT NULL,
  account_id       text NOT NULL REFERENCES accounts (id),
  contacts         text NOT NULL DEFAULT '[]',
  pipeline_id      text NOT NULL REFERENCES pipelines (id),
  stage_id         text NOT NULL REFERENCES stages (id),
  amount           bigint,
  currency         text NOT NULL DEFAULT 'BRL',
  expected_close   text,
  owner_id         text REFERENCES users (id),
  lost_reason      text,
  status           text NOT NULL DEFAULT 'open',
  stage_entered_at bigint NOT NULL,
  attributes       text NOT NULL DEFAULT '{}',
  version          bigint NOT NULL DEFAULT 1,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  archived_at      bigint
);
CREATE INDEX deals_tenant_updated ON deals (tenant_id, updated_at, id);
CREATE INDEX deals_account ON deals (account_id);
CREATE INDEX deals_stage ON deals (stage_id);

CREATE TABLE deal_stage_history (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  deal_id    text NOT NULL REFERENCES deals (id),
  stage_id   text NOT NULL REFERENCES stages (id),
  entered_at bigint NOT NULL,
  left_at    bigint,
  actor_type text NOT NULL,
  actor_id   text NOT NULL
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, entered_at);

CREATE TABLE interactions (
  id              text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  type            text NOT NULL,
  direction       text NOT NULL,
  channel         text,
  occurred_at     bigint,
  subject         text,
  body            text,
  external_id     text,
  thread_id       text,
  delivery_status text,
  account_id      text REFERENCES accounts (id),
  contact_id      text REFERENCES contacts (id),
  deal_id         text REFERENCES deals (id),
  attributes      text NOT NULL DEFAULT '{}',
  version         bigint NOT NULL DEFAULT 1,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  archived_at     bigint
);
-- A message is recorded once per channel (webhook retries deliver it again).
CREATE UNIQUE INDEX interactions_external ON interactions (tenant_id, channel, external_id)
  WHERE external_id IS NOT NULL;
CREATE INDEX interactions_tenant_occurred ON interactions (tenant_id, occurred_at, id);
CREATE INDEX interactions_account ON interactions (account_id, occurred_at);
CREATE INDEX interactions_contact ON interactions (contact_id, occurred_at);
CREATE INDEX interactions_deal ON interactions (deal_id, occurred_at);

CREATE TABLE tasks (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  title        text NOT NULL,
  due_at       bigint,
  assignee_id  text REFERENCES users (id),
  status       text NOT NULL DEFAULT 'open',
  kind         text NOT NULL DEFAULT 'follow_up',
  origin_rule  text,
  account_id   text REFERENCES accounts (id),
  contact_id   text REFERENCES contacts (id),
  deal_id      text REFERENCES deals (id),
  completed_at bigint,
  attributes   text NOT NULL DEFAULT '{}',
  version      bigint NOT NULL DEFAULT 1,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL,
  archived_at  bigint
);
CREATE INDEX tasks_tenant_due ON tasks (tenant_id, status, due_at);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_at);

CREATE TABLE products (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  sku         text,
  price       bigint,
  currency    text NOT NULL DEFAULT 'BRL',
  active      integer NOT NULL DEFAULT 1,
  attributes  text NOT NULL DEFAULT '{}',
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);

-- Normalised e-mails and phones of accounts and contacts, kept by the services in
-- the same transaction as the record: duplicate detection and inbound matching
-- (a WhatsApp message from +55…) read this, not JSON arrays.
CREATE TABLE contact_points (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  entity_type text NOT NULL,
  entity_id   text NOT NULL,
  kind        text NOT NULL,
  value       text NOT NULL,
  PRIMARY KEY (entity_id, kind, value)
);
CREATE INDEX contact_points_lookup ON contact_points (tenant_id, kind, value);

-- Audit events recorded by each service call, waiting for the sequencer (issue 6).
CREATE TABLE audit_pending (
  seq             integer PRIMARY KEY AUTOINCREMENT,
  id              text NOT NULL UNIQUE,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  recorded_at     bigint NOT NULL,
  actor_type      text NOT NULL,
  actor_id        text NOT NULL,
  on_behalf_of    text,
  action          text NOT NULL,
  entity_type     text NOT NULL,
  entity_id       text NOT NULL,
  request_id      text,
  source_ip       text,
  reason          text,
  changes         text NOT NULL,
  personal_fields text NOT NULL DEFAULT '[]'
);

-- Domain events written in the business transaction, dispatched later (issue 9).
CREATE TABLE outbox (
  seq          integer PRIMARY KEY AUTOINCREMENT,
  id           text NOT NULL UNIQUE,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL,
  occurred_at  bigint NOT NULL,
  actor        text NOT NULL,
  entity_type  text NOT NULL,
  entity_id    text NOT NULL,
  data         text NOT NULL,
  causation_id text,
  depth        integer NOT NULL DEFAULT 0,
  request_id   text
);
