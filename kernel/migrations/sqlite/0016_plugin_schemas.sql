-- 0016 the attribute schemas each plugin declared when it last loaded; see the
-- PostgreSQL migration.
CREATE TABLE plugin_schemas (
  plugin_id      text NOT NULL,
  entity_type    text NOT NULL,
  schema         text NOT NULL,
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, entity_type)
);
