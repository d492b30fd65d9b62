-- 0032 the consent ledger: see ../postgresql/0032_consent_ledger.sql.
CREATE TABLE privacy_purposes (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  key         text NOT NULL,
  description text NOT NULL,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (tenant_id, key)
);

CREATE TABLE plugin_purposes (
  plugin_id      text NOT NULL,
  key            text NOT NULL,
  description    text NOT NULL,
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, key)
);

CREATE TABLE consent_entries (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  contact_id  text NOT NULL,
  purpose     text NOT NULL,
  action      text NOT NULL CHECK (action IN ('grant', 'revoke')),
  legal_basis text NOT NULL,
  source_type text NOT NULL,
  source_ref  text,
  notice      text,
  actor_type  text NOT NULL,
  actor_id    text NOT NULL,
  recorded_at bigint NOT NULL
);
CREATE INDEX consent_entries_contact ON consent_entries (tenant_id, contact_id, purpose, recorded_at);
CREATE TRIGGER consent_entries_no_update BEFORE UPDATE ON consent_entries
  BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: UPDATE on consent_entries refused'); END;
CREATE TRIGGER consent_entries_no_delete BEFORE DELETE ON consent_entries
  BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only: DELETE on consent_entries refused'); END;

INSERT OR IGNORE INTO privacy_purposes (tenant_id, key, description, created_at, updated_at)
SELECT c.tenant_id, e.key, 'recorded before the consent ledger (migration 0032)', c.updated_at, c.updated_at
  FROM contacts c, json_each(c.consent) e
 WHERE e.type IN ('true', 'false') AND e.key GLOB '[a-z]*' AND NOT e.key GLOB '*[^a-z0-9_]*' AND length(e.key) <= 64;
INSERT INTO consent_entries (id, tenant_id, contact_id, purpose, action, legal_basis, source_type, source_ref,
                             notice, actor_type, actor_id, recorded_at)
SELECT 'cns_m0032_' || c.id || '_' || e.key, c.tenant_id, c.id, e.key,
       CASE e.type WHEN 'true' THEN 'grant' ELSE 'revoke' END, 'consent', 'migration', '0032',
       NULL, 'system', 'migration', c.updated_at
  FROM contacts c, json_each(c.consent) e
 WHERE e.type IN ('true', 'false') AND e.key GLOB '[a-z]*' AND NOT e.key GLOB '*[^a-z0-9_]*' AND length(e.key) <= 64;
UPDATE contacts SET consent = coalesce(
  (SELECT json_group_object(e.key, CASE e.type WHEN 'true' THEN 'granted' ELSE 'revoked' END)
     FROM json_each(contacts.consent) e
    WHERE e.type IN ('true', 'false') AND e.key GLOB '[a-z]*' AND NOT e.key GLOB '*[^a-z0-9_]*' AND length(e.key) <= 64),
  '{}')
 WHERE consent <> '{}';
