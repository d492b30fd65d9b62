-- 0036 cadences (docs/automation.md "Cadences"; docs/adr/0042-automation-rules-and-cadences.md).
--
-- A cadence is a core entity (its steps a versioned document); an enrolment is one
-- contact's way through one: the step due next and when, or why it stopped. A step is
-- sent in the transaction that moves the enrolment past it, so a crash between the two
-- cannot send it twice or lose it. One active enrolment per contact and cadence.
CREATE TABLE cadences (
  id            text PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id),
  name          text NOT NULL,
  key           text,
  description   text,
  active        smallint NOT NULL DEFAULT 1,
  steps         jsonb NOT NULL,
  purpose       text,
  gap_hours     bigint NOT NULL DEFAULT 24,
  working_hours jsonb NOT NULL DEFAULT '{"start": 9, "end": 18}',
  version       bigint NOT NULL DEFAULT 1,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  archived_at   bigint
);
SELECT nucleo_enable_tenant_rls('cadences');
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
  history         jsonb NOT NULL DEFAULT '[]',  -- the steps done: [{step, at, interaction_id | task_id}]
  enrolled_by     text NOT NULL,
  enrolled_at     bigint NOT NULL,
  updated_at      bigint NOT NULL,
  version         bigint NOT NULL DEFAULT 1
);
SELECT nucleo_enable_tenant_rls('cadence_enrolments');
CREATE UNIQUE INDEX cadence_enrolments_one_active ON cadence_enrolments (tenant_id, cadence_id, contact_id)
  WHERE status = 'active';
CREATE INDEX cadence_enrolments_due ON cadence_enrolments (tenant_id, next_at) WHERE status = 'active';
CREATE INDEX cadence_enrolments_contact ON cadence_enrolments (tenant_id, contact_id);
CREATE INDEX cadence_enrolments_deal ON cadence_enrolments (tenant_id, deal_id);
CREATE INDEX cadence_enrolments_cadence ON cadence_enrolments (tenant_id, cadence_id, id);
