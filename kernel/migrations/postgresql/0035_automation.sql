-- 0035 automation rules (docs/automation.md; docs/adr/0042-automation-rules-and-cadences.md).
--
-- A rule is a core entity: a versioned document (trigger, conditions, actions) changed
-- through the one door like any record, so its history is the audit trail's.
CREATE TABLE automation_rules (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  key         text,
  description text,
  enabled     smallint NOT NULL DEFAULT 0,
  trigger     jsonb NOT NULL,
  conditions  jsonb NOT NULL DEFAULT '[]',
  actions     jsonb NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
SELECT nucleo_enable_tenant_rls('automation_rules');
CREATE UNIQUE INDEX automation_rules_tenant_key ON automation_rules (tenant_id, key)
  WHERE key IS NOT NULL AND archived_at IS NULL;
CREATE INDEX automation_rules_enabled ON automation_rules (tenant_id) WHERE enabled = 1 AND archived_at IS NULL;

-- One row per rule and event it fired for (a time trigger's "event" is the record and
-- the period): written in the transaction of the rule's actions, so an event delivered
-- again finds the row and fires nothing — delivery is at least once, a firing exactly
-- once. `outcome`: done | failed (a permanent refusal; nothing was written) |
-- loop_stopped (automation.max_depth). `summary`: the record acted on and, per action,
-- what it did or the error — ids and counts, no personal data.
CREATE TABLE automation_firings (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  rule_id      text NOT NULL,
  event_id     text NOT NULL,
  rule_version bigint NOT NULL,
  fired_at     bigint NOT NULL,
  outcome      text NOT NULL,
  summary      jsonb NOT NULL,
  PRIMARY KEY (tenant_id, rule_id, event_id)
);
CREATE INDEX automation_firings_latest ON automation_firings (tenant_id, rule_id, fired_at);
SELECT nucleo_enable_tenant_rls('automation_firings');
