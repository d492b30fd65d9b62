-- 0038 proposals (docs/proposals.md; docs/adr/0043-proposals-rendered-and-accepted-with-proof.md).
--
-- A proposal is a core entity: its draft changes through the one door like any record.
-- Sending freezes its revision into proposal_versions — the document, its HTML and PDF
-- and the PDF's SHA-256 — which nobody changes afterwards: the application role may
-- insert and read a version, never update or delete one. A public link opens one frozen
-- revision to whoever holds it; its views are counted on it.
CREATE TABLE proposal_templates (
  id               text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id),
  name             text NOT NULL,
  key              text,
  html             text,
  intro            text,
  closing          text,
  logo_png         text,
  acceptance_fields jsonb NOT NULL DEFAULT '[]',
  is_default       smallint NOT NULL DEFAULT 0,
  version          bigint NOT NULL DEFAULT 1,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  archived_at      bigint
);
SELECT nucleo_enable_tenant_rls('proposal_templates');
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
  lines          jsonb NOT NULL DEFAULT '[]',
  subtotal       bigint NOT NULL DEFAULT 0,
  discount_total bigint NOT NULL DEFAULT 0,
  total          bigint NOT NULL DEFAULT 0,
  valid_until    text,
  payment_terms  text,
  notes          text,
  accept_moves_deal smallint NOT NULL DEFAULT 0,
  status         text NOT NULL DEFAULT 'draft',
  revision       bigint NOT NULL DEFAULT 1,
  sent_revision  bigint,
  sent_at        bigint,
  approvals      jsonb NOT NULL DEFAULT '[]',
  decided_revision bigint,
  decided_sha256 text,
  decision       jsonb,
  decided_at     bigint,
  attributes     jsonb NOT NULL DEFAULT '{}',
  version        bigint NOT NULL DEFAULT 1,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  archived_at    bigint
);
SELECT nucleo_enable_tenant_rls('proposals');
CREATE INDEX proposals_deal ON proposals (tenant_id, deal_id);
-- The drafts an approver's agenda prices (ProposalService::approvals_waiting_for).
CREATE INDEX proposals_status ON proposals (tenant_id, status, id);

CREATE TABLE proposal_versions (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  proposal_id  text NOT NULL,
  revision     bigint NOT NULL,
  document     jsonb NOT NULL,   -- what was rendered (services/proposal_service.hpp)
  html         text NOT NULL,
  pdf_base64   text NOT NULL,
  pdf_sha256   text NOT NULL,    -- hex
  frozen_at    bigint NOT NULL,
  frozen_by    text NOT NULL,    -- the actor: "user:usr_…", "rule:rul_…"
  PRIMARY KEY (tenant_id, proposal_id, revision)
);
SELECT nucleo_enable_tenant_rls('proposal_versions');
-- Frozen means frozen: the application inserts and reads versions, and that is all.
REVOKE UPDATE, DELETE ON proposal_versions FROM nucleo_app;

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
SELECT nucleo_enable_tenant_rls('proposal_links');
CREATE INDEX proposal_links_proposal ON proposal_links (tenant_id, proposal_id);
