-- 0028 Idempotency keys are scoped per credential and operation (issue #26, ADR 0033): the
-- same Idempotency-Key sent to two operations names two requests, as with Stripe. The
-- primary key names the tenant too (SQLite changes a primary key by copying the table).
-- Memories kept from before (at most 24 h old) get the empty operation, which no request
-- names: a retry across this upgrade runs again.
CREATE TABLE idempotency_records_scoped (
  tenant_id       text NOT NULL REFERENCES tenants (id),
  api_key_id      text NOT NULL,
  operation       text NOT NULL DEFAULT '',
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  state           text NOT NULL,           -- in_flight | done
  response_status integer,
  response_body   text,
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  PRIMARY KEY (tenant_id, api_key_id, operation, idempotency_key)
);
INSERT INTO idempotency_records_scoped (tenant_id, api_key_id, idempotency_key, request_hash, state, response_status,
                                        response_body, created_at, expires_at)
  SELECT tenant_id, api_key_id, idempotency_key, request_hash, state, response_status, response_body, created_at,
         expires_at FROM idempotency_records;
DROP TABLE idempotency_records;
ALTER TABLE idempotency_records_scoped RENAME TO idempotency_records;
CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at);
