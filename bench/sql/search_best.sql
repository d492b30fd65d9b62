-- The best SQL a DBA would write for a `contains` search (issue #29): the table owner
-- (no row-level security) reading the stored fold through its trigram index, or the
-- id-ordered scan when the term is common — the planner's choice, from statistics.
SELECT id, tenant_id, version, created_at, updated_at, archived_at, legal_name, trade_name, tax_id, tax_id_country,
       tax_id_kind, domain, phones, emails, address, owner_id, lifecycle, attributes
  FROM accounts WHERE tenant_id = :tenant AND archived_at IS NULL AND legal_name_folded LIKE :pattern
  ORDER BY id LIMIT 51;
