-- 0041 deployment keys; see the PostgreSQL migration.
CREATE TABLE deployment_keys (
  name         text PRIMARY KEY,
  fingerprint  text NOT NULL,
  recorded_at  bigint NOT NULL,
  recorded_by  text NOT NULL
);
