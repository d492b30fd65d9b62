-- 0007 personal data that can be erased without breaking the audit log; see the
-- PostgreSQL migration and ADR 0012.
DROP TABLE audit_personal_values;

CREATE TABLE privacy_subject_keys (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  subject_id text NOT NULL,
  key        text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, subject_id)
);

CREATE TABLE audit_sealed_values (
  event_id   text NOT NULL,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  subject_id text NOT NULL,
  field      text NOT NULL,
  side       text NOT NULL CHECK (side IN ('from', 'to')),
  sealed     text NOT NULL,
  PRIMARY KEY (event_id, field, side)
);
CREATE INDEX audit_sealed_values_subject ON audit_sealed_values (tenant_id, subject_id);

CREATE TABLE privacy_holds (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  subject_id  text NOT NULL,
  reason      text NOT NULL,
  placed_by   text NOT NULL,
  placed_at   bigint NOT NULL,
  lifted_by   text,
  lifted_at   bigint,
  lift_reason text
);
CREATE INDEX privacy_holds_subject ON privacy_holds (tenant_id, subject_id);

ALTER TABLE contacts ADD COLUMN erased_at bigint;
