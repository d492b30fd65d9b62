-- 0041 deployment keys (issue #35, docs/operations.md): a fingerprint of the secrets key
-- the deployment seals with (an HMAC of a fixed text under the key: it tells keys apart
-- and reveals nothing of one). The first process to open the database records it; a node
-- started with another key file — two nodes that each created one — refuses to start
-- instead of sealing secrets the others cannot open.
CREATE TABLE deployment_keys (
  name         text PRIMARY KEY,   -- "secrets"
  fingerprint  text NOT NULL,
  recorded_at  bigint NOT NULL,
  recorded_by  text NOT NULL       -- the node that recorded it
);
GRANT SELECT, INSERT ON deployment_keys TO nucleo_worker;
