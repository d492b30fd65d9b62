\set n random(1, :deals)
-- As the server sends a read (docs/adr/0038-reads-in-one-round-trip.md): one round trip.
\startpipeline
SELECT set_config('transaction_read_only', 'on', true), set_config('nucleo.tenant_id', :tenant, true);
SELECT id, tenant_id, version, created_at, updated_at, archived_at, name, account_id, contacts, pipeline_id, stage_id,
       amount, currency, expected_close, owner_id, lost_reason, status, stage_entered_at, attributes
  FROM deals WHERE id = 'deal_' || lpad(:n::text, 26, '0') AND tenant_id = :tenant;
\endpipeline
