\set s random(1, 5)
-- As the server sends a read (docs/adr/0038-reads-in-one-round-trip.md): one round trip.
\startpipeline
SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', :tenant, true);
SELECT id, tenant_id, version, created_at, updated_at, archived_at, name, account_id, contacts, pipeline_id, stage_id,
       amount, currency, expected_close, owner_id, lost_reason, status, stage_entered_at, attributes
  FROM deals WHERE tenant_id = :tenant AND archived_at IS NULL AND stage_id = 'stg_' || lpad(:s::text, 26, '0')
  ORDER BY id LIMIT 51;
\endpipeline
