-- 0003 idempotency: stored responses for POST requests carrying an Idempotency-Key
-- (docs/architecture.md §7), scoped per API key and kept at least 24 hours.
CREATE TABLE idempotency_records (
  api_key_id      text NOT NULL,
  idempotency_key text NOT NULL,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  request_hash    text NOT NULL,
  state           text NOT NULL,           -- in_flight | done
  response_status integer,
  response_body   text,
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  PRIMARY KEY (api_key_id, idempotency_key)
);
CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at);
SELECT nucleo_enable_tenant_rls('idempotency_records');
