-- 0035 automation rules: see ../postgresql/0035_automation.sql.
CREATE TABLE automation_rules (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  key         text,
  description text,
  enabled     integer NOT NULL DEFAULT 0,
  trigger     text NOT NULL,
  conditions  text NOT NULL DEFAULT '[]',
  actions     text NOT NULL,
  version     bigint NOT NULL DEFAULT 1,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  archived_at bigint
);
CREATE UNIQUE INDEX automation_rules_tenant_key ON automation_rules (tenant_id, key)
  WHERE key IS NOT NULL AND archived_at IS NULL;
CREATE INDEX automation_rules_enabled ON automation_rules (tenant_id) WHERE enabled = 1 AND archived_at IS NULL;

CREATE TABLE automation_firings (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  rule_id      text NOT NULL,
  event_id     text NOT NULL,
  rule_version bigint NOT NULL,
  fired_at     bigint NOT NULL,
  outcome      text NOT NULL,
  summary      text NOT NULL,
  PRIMARY KEY (tenant_id, rule_id, event_id)
);
CREATE INDEX automation_firings_latest ON automation_firings (tenant_id, rule_id, fired_at);
