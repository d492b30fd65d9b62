-- 0008 event dispatch (docs/architecture.md §8): how far each subscriber has read the outbox, and
-- the deliveries that failed — retried with back-off, then kept as dead letters until
-- replayed.
--
-- A subscriber is global (a plugin's subscription on this deployment): its cursor row
-- is the worker's. Failures belong to the event's tenant: admins list and replay their
-- own under row-level security.
CREATE TABLE event_subscribers (
  name         text PRIMARY KEY,       -- "plugin:<id>:<pattern>"
  last_seq     bigint NOT NULL,        -- outbox seq read up to
  leased_by    text,                   -- the node dispatching for it
  leased_until bigint NOT NULL DEFAULT 0,
  created_at   bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON event_subscribers TO nucleo_worker;

CREATE TABLE event_failures (
  subscriber      text NOT NULL,
  event_seq       bigint NOT NULL,
  event_id        text NOT NULL,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  event_name      text NOT NULL,
  attempts        integer NOT NULL,
  next_attempt_at bigint,                -- null once dead
  dead_at         bigint,
  last_error      text NOT NULL,
  PRIMARY KEY (subscriber, event_seq)
);
CREATE INDEX event_failures_due ON event_failures (subscriber, next_attempt_at) WHERE dead_at IS NULL;
CREATE INDEX event_failures_dead ON event_failures (tenant_id, dead_at) WHERE dead_at IS NOT NULL;
SELECT nucleo_enable_tenant_rls('event_failures');
