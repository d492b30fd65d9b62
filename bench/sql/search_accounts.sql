BEGIN READ ONLY;
SELECT set_config('nucleo.tenant_id', :tenant, true);
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT id, tenant_id, version, created_at, updated_at, archived_at, legal_name, trade_name, tax_id, tax_id_country,
       tax_id_kind, domain, phones, emails, address, owner_id, lifecycle, attributes
  FROM accounts WHERE tenant_id = :tenant AND archived_at IS NULL AND (legal_name_folded LIKE :pattern)
  ORDER BY id LIMIT 51;
COMMIT;
