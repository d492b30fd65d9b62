-- 0032 the consent ledger (LGPD arts. 7, 8, 9; docs/compliance.md "Consent";
-- docs/adr/0039-consent-is-a-ledger.md).
--
-- A contact's consent for a purpose is never edited: each grant and revocation is an
-- entry, with its legal basis, source and notice; the state is the purpose's latest
-- entry. contacts.consent keeps that state as {"<purpose>": "granted" | "revoked"},
-- written only with an entry, so searches read it like any field.
--
-- Purposes: a tenant's own (privacy_purposes, set by its admin), and those each plugin
-- declared when it last loaded (plugin_purposes, deployment-wide like plugin_schemas).
CREATE TABLE privacy_purposes (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  key         text NOT NULL,
  description text NOT NULL,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
SELECT nucleo_enable_tenant_rls('privacy_purposes');

CREATE TABLE plugin_purposes (
  plugin_id      text NOT NULL,
  key            text NOT NULL,
  description    text NOT NULL,
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_purposes TO nucleo_worker;
GRANT SELECT ON plugin_purposes TO nucleo_app;

CREATE TABLE consent_entries (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  contact_id  text NOT NULL,
  purpose     text NOT NULL,
  action      text NOT NULL CHECK (action IN ('grant', 'revoke')),
  legal_basis text NOT NULL,
  source_type text NOT NULL,
  source_ref  text,           -- the form, message, import or request it came from
  notice      text,           -- the text or version of the notice the person was shown
  actor_type  text NOT NULL,
  actor_id    text NOT NULL,
  recorded_at bigint NOT NULL
);
CREATE INDEX consent_entries_contact ON consent_entries (tenant_id, contact_id, purpose, recorded_at);

-- Append-only for every role, owner included, like the audit log.
ALTER TABLE consent_entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON consent_entries
  USING (tenant_id = nucleo_current_tenant()) WITH CHECK (tenant_id = nucleo_current_tenant());
GRANT SELECT, INSERT ON consent_entries TO nucleo_app;
GRANT SELECT ON consent_entries TO nucleo_worker;
CREATE TRIGGER consent_entries_append_only BEFORE UPDATE OR DELETE ON consent_entries
  FOR EACH ROW EXECUTE FUNCTION nucleo_refuse_audit_change();
CREATE TRIGGER consent_entries_no_truncate BEFORE TRUNCATE ON consent_entries
  FOR EACH STATEMENT EXECUTE FUNCTION nucleo_refuse_audit_change();

-- The free-form consent a contact held before is kept as the ledger's first entries:
-- a true flag a grant, a false one a revocation, each purpose defined for its tenant.
-- Other values said nothing a ledger can hold; the audit trail keeps them.
INSERT INTO privacy_purposes (tenant_id, key, description, created_at, updated_at)
SELECT DISTINCT c.tenant_id, e.key, 'recorded before the consent ledger (migration 0032)', c.updated_at, c.updated_at
  FROM contacts c, jsonb_each(c.consent) e
 WHERE jsonb_typeof(e.value) = 'boolean' AND e.key ~ '^[a-z][a-z0-9_]{0,63}$'
ON CONFLICT DO NOTHING;
INSERT INTO consent_entries (id, tenant_id, contact_id, purpose, action, legal_basis, source_type, source_ref,
                             notice, actor_type, actor_id, recorded_at)
SELECT 'cns_m0032_' || md5(c.id || '/' || e.key), c.tenant_id, c.id, e.key,
       CASE WHEN e.value = 'true'::jsonb THEN 'grant' ELSE 'revoke' END, 'consent', 'migration', '0032',
       NULL, 'system', 'migration', c.updated_at
  FROM contacts c, jsonb_each(c.consent) e
 WHERE jsonb_typeof(e.value) = 'boolean' AND e.key ~ '^[a-z][a-z0-9_]{0,63}$';
UPDATE contacts SET consent = coalesce(
  (SELECT jsonb_object_agg(e.key, CASE WHEN e.value = 'true'::jsonb THEN 'granted' ELSE 'revoked' END)
     FROM jsonb_each(contacts.consent) e
    WHERE jsonb_typeof(e.value) = 'boolean' AND e.key ~ '^[a-z][a-z0-9_]{0,63}$'), '{}'::jsonb)
 WHERE consent <> '{}'::jsonb;
