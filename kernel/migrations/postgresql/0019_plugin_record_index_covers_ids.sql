-- 0019 a list filtered on an indexed field reads the matching record ids from the index
-- alone, already in id order (docs/benchmarks.md, plugin resources): the indexes of
-- 0012 end with the value, these with the value and then the record id.
DROP INDEX plugin_record_index_int;
DROP INDEX plugin_record_index_text;
CREATE INDEX plugin_record_index_int ON plugin_record_index (tenant_id, plugin_id, collection, field, int_value, record_id);
CREATE INDEX plugin_record_index_text ON plugin_record_index (tenant_id, plugin_id, collection, field, text_value, record_id);
