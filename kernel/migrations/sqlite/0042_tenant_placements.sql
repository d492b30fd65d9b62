-- 0042 tenant placements; see the PostgreSQL migration. On SQLite every tenant lives in
-- the one file: the table stays empty (clusters need PostgreSQL).
CREATE TABLE tenant_placements (
  tenant_id        text PRIMARY KEY REFERENCES tenants (id),
  cluster          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('placed', 'moving')),
  previous_cluster text,
  updated_at       bigint NOT NULL
);
