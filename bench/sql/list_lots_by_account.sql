\set a random(1, :accounts)
-- As the server sends a read (docs/adr/0038-reads-in-one-round-trip.md): one round trip.
\startpipeline
SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', :tenant, true);
SELECT r.id, r.document, r.version, r.created_at, r.updated_at FROM plugin_records r
 WHERE r.tenant_id = :tenant AND r.plugin_id = 'org.nucleo.bench.host-call' AND r.collection = 'lots'
   AND EXISTS (SELECT 1 FROM plugin_record_index i WHERE i.tenant_id = r.tenant_id AND i.plugin_id = r.plugin_id
               AND i.collection = r.collection AND i.record_id = r.id AND i.field = 'account_id'
               AND i.text_value = 'acc_' || lpad(:a::text, 26, '0'))
 ORDER BY r.id LIMIT 51;
\endpipeline
