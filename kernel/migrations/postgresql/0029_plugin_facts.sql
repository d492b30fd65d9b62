-- 0029 the plugins' fact sets (ADR 0035, docs/plugin-authoring.md "Fact sets"): measurements
-- a plugin imports in bulk — a retailer's sell-out, sell-in and inventory lines — kept as
-- typed rows the kernel aggregates in SQL, not as documents. A fact is keyed by all its
-- dimensions: its date dimension as a day number (days since 1970-01-01; 0 when the set
-- has none) and up to four text dimensions in the order the manifest declares them ('' when
-- unused); its measures are integers. Importing a fact again replaces its measures.
CREATE TABLE plugin_facts (
  tenant_id text NOT NULL REFERENCES tenants (id),
  plugin_id text NOT NULL,
  fact_set  text NOT NULL,
  day       integer NOT NULL,
  d1        text NOT NULL,
  d2        text NOT NULL,
  d3        text NOT NULL,
  d4        text NOT NULL,
  m1        bigint,
  m2        bigint,
  m3        bigint,
  m4        bigint,
  PRIMARY KEY (tenant_id, plugin_id, fact_set, day, d1, d2, d3, d4)
);
SELECT nucleo_enable_tenant_rls('plugin_facts');
