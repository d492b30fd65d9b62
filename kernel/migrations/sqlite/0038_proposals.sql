-- 0038 proposals: see ../postgresql/0038_proposals.sql. SQLite has no roles: a version is
-- frozen by the services alone (nothing in them updates or deletes one).
CREATE TABLE proposal_templates (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id),
  name             text NOT NULL,
  key              text,
  html             text,
  intro            text,
  closing          text,
  logo_png         text,
  acceptance_fields text NOT NULL DEFAULT '[]',
  is_default       integer NOT NULL DEFAULT 0,
  version          bigint NOT NULL DEFAULT 1,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  archived_at      bigint
);
CREATE UNIQUE INDEX proposal_templates_tenant_key ON proposal_templates (tenant_id, key)
  WHERE key IS NOT NULL AND archived_at IS NULL;

CREATE TABLE proposals (
  id             text PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id),
  deal_id        text NOT NULL,
  title          text NOT NULL,
  template_id    text,
  contact_id     text,
  owner_id       text,
  currency       text NOT NULL DEFAULT 'BRL',
  lines          text NOT NULL DEFAULT '[]',
  subtotal       bigint NOT NULL DEFAULT 0,
  discount_total bigint NOT NULL DEFAULT 0,
  total          bigint NOT NULL DEFAULT 0,
  valid_until    text,
  payment_terms  text,
  notes          text,
  accept_moves_deal integer NOT NULL DEFAULT 0,
  status         text NOT NULL DEFAULT 'draft',
  revision       bigint NOT NULL DEFAULT 1,
  sent_revision  bigint,
  sent_at        bigint,
  approvals      text NOT NULL DEFAULT '[]',
  decided_revision bigint,
  decided_sha256 text,
  decision       text,
  decided_at     bigint,
  attributes     text NOT NULL DEFAULT '{}',
  version        bigint NOT NULL DEFAULT 1,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  archived_at    bigint
);
CREATE INDEX proposals_deal ON proposals (tenant_id, deal_id);
-- The drafts an approver's agenda prices (ProposalService::approvals_waiting_for).
CREATE INDEX proposals_status ON proposals (tenant_id, status, id);

CREATE TABLE proposal_versions (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  proposal_id  text NOT NULL,
  revision     bigint NOT NULL,
  document     text NOT NULL,   -- what was rendered (services/proposal_service.hpp)
  html         text NOT NULL,
  pdf_base64   text NOT NULL,
  pdf_sha256   text NOT NULL,    -- hex
  frozen_at    bigint NOT NULL,
  frozen_by    text NOT NULL,    -- the actor: "user:usr_…", "rule:rul_…"
  PRIMARY KEY (tenant_id, proposal_id, revision)
);

CREATE TABLE proposal_links (
  id              text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  proposal_id     text NOT NULL,
  revision        bigint NOT NULL,
  expires_at      bigint NOT NULL,
  revoked_at      bigint,
  created_by      text NOT NULL,
  created_at      bigint NOT NULL,
  view_count      bigint NOT NULL DEFAULT 0,
  first_viewed_at bigint,
  last_viewed_at  bigint,
  view_interaction_id text        -- the interaction that records this link's views
);
CREATE INDEX proposal_links_proposal ON proposal_links (tenant_id, proposal_id);
