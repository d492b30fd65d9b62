\set s random(0, :audit_events - 1)
BEGIN READ ONLY;
SELECT set_config('nucleo.tenant_id', :tenant, true);
SELECT leaf_hash FROM audit_log WHERE tenant_id = :tenant AND seq = :s;
COMMIT;
