-- 0042 tenant placements (issue #35, ADR 0048): which PostgreSQL cluster holds a tenant's
-- rows. Kept on the home cluster (store.url); a tenant without a row lives there. Written
-- only by `nucleo tenant move` as the schema owner; nodes read it to route a request.
-- state 'moving': the tenant's writes are refused (503) while its rows are copied.
-- previous_cluster: where the old copy stays until `nucleo tenant move --confirm`.
CREATE TABLE tenant_placements (
  tenant_id        text PRIMARY KEY REFERENCES tenants (id),
  cluster          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('placed', 'moving')),
  previous_cluster text,
  updated_at       bigint NOT NULL
);
GRANT SELECT ON tenant_placements TO nucleo_app, nucleo_worker;
