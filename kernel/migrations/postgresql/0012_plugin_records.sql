-- 0012 the plugins' record store (docs/architecture.md §6): tenant-scoped collections of JSON
-- documents a plugin declares in its manifest, with the fields it may be queried by
-- copied into an index table (integers and text, for equality and ranges).
CREATE TABLE plugin_records (
  tenant_id  text NOT NULL REFERENCES tenants (id),
  plugin_id  text NOT NULL,
  collection text NOT NULL,
  id         text NOT NULL,
  document   text NOT NULL,   -- JSON object
  version    bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, plugin_id, collection, id)
);
SELECT nucleo_enable_tenant_rls('plugin_records');

CREATE TABLE plugin_record_index (
  tenant_id   text NOT NULL REFERENCES tenants (id),
  plugin_id   text NOT NULL,
  collection  text NOT NULL,
  record_id   text NOT NULL,
  field       text NOT NULL,
  int_value   bigint,
  text_value  text,
  PRIMARY KEY (tenant_id, plugin_id, collection, record_id, field)
);
CREATE INDEX plugin_record_index_int ON plugin_record_index (tenant_id, plugin_id, collection, field, int_value);
CREATE INDEX plugin_record_index_text ON plugin_record_index (tenant_id, plugin_id, collection, field, text_value);
SELECT nucleo_enable_tenant_rls('plugin_record_index');
