-- 0006 the audit log (docs/architecture.md §5): the sequencer moves events from audit_pending into
-- audit_log with a gapless per-tenant seq and the canonical leaf bytes, and stores
-- every complete Merkle subtree so a proof reads O(log n) rows.
--
-- Append-only for every role the application uses: nucleo_app reads (under RLS),
-- nucleo_worker reads and inserts; nobody is granted UPDATE or DELETE, and a trigger
-- refuses them (and TRUNCATE) even to the owner.

CREATE FUNCTION nucleo_refuse_audit_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

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
  leaf         text NOT NULL,   -- the canonical bytes (RFC 8785), exactly what is hashed
  leaf_hash    text NOT NULL,   -- hex SHA-256(0x00 ‖ leaf)
  sequenced_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_log_entity ON audit_log (tenant_id, entity_type, entity_id, seq);
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor_id, seq);
CREATE INDEX audit_log_time ON audit_log (tenant_id, recorded_at);

-- Complete subtrees: level L, index i covers leaves [i·2^L, (i+1)·2^L). Level 0 = leaves.
CREATE TABLE audit_tree_nodes (
  tenant_id text NOT NULL REFERENCES tenants (id),
  level     integer NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx       bigint NOT NULL CHECK (idx >= 0),
  hash      text NOT NULL,
  PRIMARY KEY (tenant_id, level, idx)
);

-- The size of each tenant's tree: the next seq. Updated only by the sequencer.
CREATE TABLE audit_tree_heads (
  tenant_id text PRIMARY KEY REFERENCES tenants (id),
  size      bigint NOT NULL CHECK (size >= 0),
  root      text NOT NULL,
  updated_at bigint NOT NULL
);

-- Values of personal-data fields, kept outside the leaf: the leaf holds
-- SHA-256(salt ‖ canonical value) only (Audit II encrypts these per data subject).
CREATE TABLE audit_personal_values (
  event_id  text NOT NULL,
  tenant_id text NOT NULL REFERENCES tenants (id),
  field     text NOT NULL,
  side      text NOT NULL CHECK (side IN ('from', 'to')),
  salt      text NOT NULL,   -- hex, 32 bytes
  value     text NOT NULL,   -- canonical JSON
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

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_log', 'audit_tree_nodes', 'audit_tree_heads', 'audit_personal_values', 'audit_checkpoints'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = nucleo_current_tenant())', t);
    EXECUTE format('GRANT SELECT ON %I TO nucleo_app', t);
    EXECUTE format('GRANT SELECT, INSERT ON %I TO nucleo_worker', t);
  END LOOP;
END $$;
GRANT UPDATE ON audit_tree_heads TO nucleo_worker;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION nucleo_refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION nucleo_refuse_audit_change();
CREATE TRIGGER audit_tree_nodes_append_only BEFORE UPDATE OR DELETE ON audit_tree_nodes
  FOR EACH ROW EXECUTE FUNCTION nucleo_refuse_audit_change();
CREATE TRIGGER audit_tree_nodes_no_truncate BEFORE TRUNCATE ON audit_tree_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION nucleo_refuse_audit_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION nucleo_refuse_audit_change();
