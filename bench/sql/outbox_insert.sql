-- One domain event written to the outbox, as a service's transaction writes it (the
-- baseline for the dispatcher's throughput).
\set n random(1, 1000000000)
BEGIN;
SELECT set_config('nucleo.tenant_id', :tenant, true);
INSERT INTO outbox (id, tenant_id, name, occurred_at, actor, entity_type, entity_id, data, depth, request_id)
  VALUES ('evt_b' || lpad(nextval('bench_seq')::text, 25, '0'), :tenant, 'contact.created', 1782864000000000,
          jsonb_build_object('type', 'key', 'id', 'key_bench'), 'contact', 'con_b' || :n,
          jsonb_build_object('record', jsonb_build_object('id', 'con_b' || :n, 'name', 'Bench contact'),
                             'changes', jsonb_build_object()),
          0, 'req_bench');
COMMIT;
