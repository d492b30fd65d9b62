-- pgbench substitutes :name even inside string literals, so JSON is built with
-- jsonb_build_object rather than written with colons.
\set n random(1, :accounts)
BEGIN;
SELECT set_config('nucleo.tenant_id', :tenant, true);
SELECT 'int_b' || lpad((:client_id * 100000000 + nextval('bench_seq'))::text, 25, '0') AS interaction \gset
-- The body is personal data with no contact: the interaction is its own data subject,
-- so its key is created and the body sealed under it (ADR 0012).
INSERT INTO privacy_subject_keys (tenant_id, subject_id, key, created_at)
  VALUES (:tenant, :interaction, md5(random()::text) || md5(random()::text), 1782864000000000)
  ON CONFLICT DO NOTHING RETURNING key;
INSERT INTO audit_sealed_values (event_id, tenant_id, subject_id, field, side, sealed)
  VALUES ('aud_s' || lpad(nextval('bench_seq')::text, 25, '0'), :tenant, :interaction, 'body', 'to',
          encode(sha256(random()::text::bytea) || sha256(random()::text::bytea), 'base64'));
INSERT INTO interactions (id, tenant_id, type, direction, channel, occurred_at, subject, body, account_id, attributes,
                          version, created_at, updated_at)
  VALUES (:interaction, :tenant, 'call', 'outbound',
          'phone', 1782864000000000, 'Bench', 'body', 'acc_' || lpad(:n::text, 26, '0'), '{}', 1, 1782864000000000,
          1782864000000000);
INSERT INTO audit_pending (id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type, entity_id, changes,
                           personal_fields)
  VALUES ('aud_b' || lpad(nextval('bench_seq')::text, 25, '0'), :tenant, 1782864000000000, 'key', 'key_bench',
          'interaction.logged', 'interaction', 'int_x', jsonb_build_object('type', jsonb_build_object('from', NULL, 'to', 'call')), jsonb_build_array('body'));
INSERT INTO outbox (id, tenant_id, name, occurred_at, actor, entity_type, entity_id, data)
  VALUES ('evt_b' || lpad(nextval('bench_seq')::text, 25, '0'), :tenant, 'interaction.logged', 1782864000000000,
          jsonb_build_object('type', 'key', 'id', 'key_bench'), 'interaction', 'int_x',
          jsonb_build_object('record', jsonb_build_object()));
COMMIT;
