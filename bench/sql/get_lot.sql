\set n random(1, :deals)
BEGIN READ ONLY;
SELECT set_config('nucleo.tenant_id', :tenant, true);
SELECT id, document, version, created_at, updated_at FROM plugin_records
 WHERE tenant_id = :tenant AND plugin_id = 'org.nucleo.bench.host-call' AND collection = 'lots'
   AND id = 'lot_' || lpad(:n::text, 26, '0');
COMMIT;
