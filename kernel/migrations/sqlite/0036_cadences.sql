-- 0036 cadences: see ../postgresql/0036_cadences.sql.
CREATE TABLE cadences (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  name          text NOT NULL,
  key           text,
  description   text,
  active        integer NOT NULL DEFAULT 1,
  steps         text NOT NULL,
  purpose       text,
  gap_hours     bigint NOT NULL DEFAULT 24,
  working_hours text NOT NULL DEFAULT '{"start": 9, "end": 18}',
  version       bigint NOT NULL DEFAULT 1,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  archived_at   bigint
);

CREATE UNIQUE INDEX cadences_tenant_key ON cadences (tenant_id, key) WHERE key IS NOT NULL AND archived_at IS NULL;

CREATE TABLE cadence_enrolments (
  id              text PRIMARY KEY,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  cadence_id      text NOT NULL,
  cadence_version bigint NOT NULL,
  contact_id      text NOT NULL,
  deal_id         text,
  owner_id        text,
  step            integer NOT NULL DEFAULT 0,   -- the index of the step due next
  next_at         bigint,                       -- when it is due (null once stopped or completed)
  status          text NOT NULL CHECK (status IN ('active', 'stopped', 'completed')),
  stop_reason     text,
  last_error      text,
  attempts        integer NOT NULL DEFAULT 0,   -- of the step due next
  history         text NOT NULL DEFAULT '[]',  -- the steps done: [{step, at, interaction_id | task_id}]
  enrolled_by     text NOT NULL,
  enrolled_at     bigint NOT NULL,
  updated_at      bigint NOT NULL,
  version         bigint NOT NULL DEFAULT 1
);

CREATE UNIQUE INDEX cadence_enrolments_one_active ON cadence_enrolments (tenant_id, cadence_id, contact_id)
  WHERE status = 'active';
CREATE INDEX cadence_enrolments_due ON cadence_enrolments (tenant_id, next_at) WHERE status = 'active';
CREATE INDEX cadence_enrolments_contact ON cadence_enrolments (tenant_id, contact_id);
CREATE INDEX cadence_enrolments_deal ON cadence_enrolments (tenant_id, deal_id);
CREATE INDEX cadence_enrolments_cadence ON cadence_enrolments (tenant_id, cadence_id, id);
