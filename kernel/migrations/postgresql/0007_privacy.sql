-- 0007 personal data that can be erased without breaking the audit log (docs/architecture.md §5,
-- LGPD art. 18, ADR 0012).
--
-- Each personal value of an audit event is committed in the leaf and kept here only
-- sealed (AES-256-GCM) under its data subject's key. Erasure deletes the subject's key
-- and sealed values: the leaves, their hashes and every proof stay as they were.
--
-- 0006 kept salts and values in plain text; they are dropped, not converted (no
-- release shipped them): events recorded before 0007 keep their commitments, whose
-- values can no longer be shown.
DROP TABLE audit_personal_values;

CREATE TABLE privacy_subject_keys (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  subject_id text NOT NULL,   -- the data subject: con_…, usr_…, or the record itself
  key        text NOT NULL,   -- hex, 32 random bytes (AES-256)
  created_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, subject_id)
);

CREATE TABLE audit_sealed_values (
  event_id   text NOT NULL,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  subject_id text NOT NULL,
  field      text NOT NULL,
  side       text NOT NULL CHECK (side IN ('from', 'to')),
  sealed     text NOT NULL,   -- base64(nonce ‖ AES-256-GCM(salt ‖ canonical value) ‖ tag)
  PRIMARY KEY (event_id, field, side)
);
CREATE INDEX audit_sealed_values_subject ON audit_sealed_values (tenant_id, subject_id);

-- A legal hold keeps a subject's data from erasure until it is lifted.
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

-- Request transactions seal values and erase subjects, under the tenant policy; the
-- worker reads the keys to open values for exports it builds.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['privacy_subject_keys', 'audit_sealed_values'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = nucleo_current_tenant())'
                   ' WITH CHECK (tenant_id = nucleo_current_tenant())', t);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON %I TO nucleo_app', t);
    EXECUTE format('GRANT SELECT ON %I TO nucleo_worker', t);
  END LOOP;
END $$;
SELECT nucleo_enable_tenant_rls('privacy_holds');
