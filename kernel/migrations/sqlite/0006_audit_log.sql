-- 0006 the audit log (docs/architecture.md §5); see the PostgreSQL migration for the design. SQLite
-- has no roles: triggers alone keep audit_log and audit_tree_nodes append-only.

CREATE TABLE audit_log (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  seq          bigint NOT NULL CHECK (seq >= 0),
  id           text NOT NULL UNIQUE,
  recorded_at  bigint NOT NULL,
  actor_type   text NOT NULL,
  actor_id     text NOT NULL,
  action       text NOT NULL,
  entity_type  text NOT NULL,
  entity_id    text NOT NULL,
  leaf         text NOT NULL,
  leaf_hash    text NOT NULL,
  sequenced_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_log_entity ON audit_log (tenant_id, entity_type, entity_id, seq);
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor_id, seq);
CREATE INDEX audit_log_time ON audit_log (tenant_id, recorded_at);

CREATE TABLE audit_tree_nodes (
  tenant_id text NOT NULL REFERENCES tenants (id),
  level     integer NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx       bigint NOT NULL CHECK (idx >= 0),
  hash      text NOT NULL,
  PRIMARY KEY (tenant_id, level, idx)
);

CREATE TABLE audit_tree_heads (
  tenant_id  text PRIMARY KEY REFERENCES tenants (id),
  size       bigint NOT NULL CHECK (size >= 0),
  root       text NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE audit_personal_values (
  event_id  text NOT NULL,
  tenant_id text NOT NULL REFERENCES tenants (id),
  field     text NOT NULL,
  side      text NOT NULL CHECK (side IN ('from', 'to')),
  salt      text NOT NULL,
  value     text NOT NULL,
  PRIMARY KEY (event_id, field, side)
);

-- Signed checkpoints (C2SP signed note), one per published tree size.
CREATE TABLE audit_checkpoints (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  size       bigint NOT NULL CHECK (size > 0),
  root       text NOT NULL,
  note       text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, size)
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_log refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_log refused'); END;
CREATE TRIGGER audit_tree_nodes_no_update BEFORE UPDATE ON audit_tree_nodes
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_tree_nodes refused'); END;
CREATE TRIGGER audit_tree_nodes_no_delete BEFORE DELETE ON audit_tree_nodes
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_tree_nodes refused'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_checkpoints refused'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_checkpoints refused'); END;
