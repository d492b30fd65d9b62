-- 0008 event dispatch; see the PostgreSQL migration.
CREATE TABLE event_subscribers (
  name         text PRIMARY KEY,
  last_seq     bigint NOT NULL,
  leased_by    text,
  leased_until bigint NOT NULL DEFAULT 0,
  created_at   bigint NOT NULL
);

CREATE TABLE event_failures (
  subscriber      text NOT NULL,
  event_seq       bigint NOT NULL,
  event_id        text NOT NULL,
  tenant_id       text NOT NULL REFERENCES tenants (id),
  event_name      text NOT NULL,
  attempts        bigint NOT NULL,
  next_attempt_at bigint,
  dead_at         bigint,
  last_error      text NOT NULL,
  PRIMARY KEY (subscriber, event_seq)
);
CREATE INDEX event_failures_due ON event_failures (subscriber, next_attempt_at) WHERE dead_at IS NULL;
CREATE INDEX event_failures_dead ON event_failures (tenant_id, dead_at) WHERE dead_at IS NOT NULL;
