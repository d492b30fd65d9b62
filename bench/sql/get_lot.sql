\set n random(1, :deals)
-- As the server sends a read (docs/adr/0038-reads-in-one-round-trip.md): one round trip.
\startpipeline
SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', :tenant, true);
SELECT id, document, version, created_at, updated_at FROM plugin_records
 WHERE tenant_id = :tenant AND plugin_id = 'org.nucleo.bench.host-call' AND collection = 'lots'
   AND id = 'lot_' || lpad(:n::text, 26, '0');
\endpipeline
