-- 0028 Idempotency keys are scoped per credential and operation (issue #26, ADR 0033): the
-- same Idempotency-Key sent to two operations names two requests, as with Stripe. The
-- primary key names the tenant too. Memories kept from before (at most 24 h old) get
-- the empty operation, which no request names: a retry across this upgrade runs again.
ALTER TABLE idempotency_records ADD COLUMN operation text NOT NULL DEFAULT '';
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_pkey;
ALTER TABLE idempotency_records ADD PRIMARY KEY (tenant_id, api_key_id, operation, idempotency_key);
