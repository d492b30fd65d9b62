#!/bin/sh
# The primary's first start (compose.yaml): the roles Nucleo expects (docs/architecture.md
# §3) — replication copies them to the replicas — and a replication user the replicas'
# pg_basebackup may connect as. Change the passwords.
set -e
psql -v ON_ERROR_STOP=1 -U postgres -d nucleo <<'SQL'
CREATE ROLE nucleo_owner LOGIN PASSWORD 'owner';
CREATE ROLE nucleo_app LOGIN PASSWORD 'app';
CREATE ROLE nucleo_worker LOGIN PASSWORD 'worker' BYPASSRLS;
CREATE ROLE replicator LOGIN REPLICATION PASSWORD 'replicate';
ALTER DATABASE nucleo OWNER TO nucleo_owner;
ALTER SCHEMA public OWNER TO nucleo_owner;
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
