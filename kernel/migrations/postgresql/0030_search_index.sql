-- 0030 index-backed search under tenant isolation (docs/adr/0036-search-index-under-rls.md).
--
-- 0005 dropped the trigram indexes because row-level security applies a condition that is
-- not LEAKPROOF (LIKE) only after the policy, so no index could serve `contains`. Searches
-- now read through one view per searched table: the view's owner is the table's owner, to
-- whom the policy does not apply, and the view itself keeps the policy's condition
-- (tenant_id = nucleo_current_tenant(), the same transaction setting). The planner may
-- then use the trigram indexes below. The views are not security barriers on purpose: a
-- barrier would bring back the very ordering that kept the indexes unused.
--
-- A list of phones or e-mails is searched as its values, one per line.
CREATE FUNCTION nucleo_fold_list(items jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT nucleo_fold(string_agg(value, E'\n' ORDER BY n))
          FROM jsonb_array_elements_text(items) WITH ORDINALITY AS e(value, n) $$;

ALTER TABLE accounts
  ADD COLUMN tax_id_folded text GENERATED ALWAYS AS (nucleo_fold(tax_id)) STORED,
  ADD COLUMN phones_folded text GENERATED ALWAYS AS (nucleo_fold_list(phones)) STORED,
  ADD COLUMN emails_folded text GENERATED ALWAYS AS (nucleo_fold_list(emails)) STORED;
ALTER TABLE contacts
  ADD COLUMN email_folded text GENERATED ALWAYS AS (nucleo_fold(email)) STORED,
  ADD COLUMN phone_folded text GENERATED ALWAYS AS (nucleo_fold(phone)) STORED;

CREATE INDEX accounts_legal_name_trgm ON accounts USING gin (legal_name_folded gin_trgm_ops);
CREATE INDEX accounts_trade_name_trgm ON accounts USING gin (trade_name_folded gin_trgm_ops);
CREATE INDEX accounts_tax_id_trgm ON accounts USING gin (tax_id_folded gin_trgm_ops);
CREATE INDEX accounts_phones_trgm ON accounts USING gin (phones_folded gin_trgm_ops);
CREATE INDEX accounts_emails_trgm ON accounts USING gin (emails_folded gin_trgm_ops);
CREATE INDEX contacts_name_trgm ON contacts USING gin (name_folded gin_trgm_ops);
CREATE INDEX contacts_email_trgm ON contacts USING gin (email_folded gin_trgm_ops);
CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone_folded gin_trgm_ops);
CREATE INDEX deals_name_trgm ON deals USING gin (name_folded gin_trgm_ops);

-- `SELECT *` is expanded now: a migration that adds a column to one of these tables
-- recreates its view (CREATE OR REPLACE VIEW), or searches cannot return the new field.
CREATE VIEW accounts_search AS SELECT * FROM accounts WHERE tenant_id = nucleo_current_tenant();
CREATE VIEW contacts_search AS SELECT * FROM contacts WHERE tenant_id = nucleo_current_tenant();
CREATE VIEW deals_search AS SELECT * FROM deals WHERE tenant_id = nucleo_current_tenant();
GRANT SELECT ON accounts_search, contacts_search, deals_search TO nucleo_app, nucleo_worker;
