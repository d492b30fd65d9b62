-- 0016 the attribute schemas each plugin declared when it last loaded
-- (docs/plugin-authoring.md, "When a plugin is not loaded"): a plugin that fails to load,
-- or is skipped in safe mode, keeps its attributes checked with these. Deployment-wide
-- (schemas are the same for every tenant), written by nucleo_worker.
CREATE TABLE plugin_schemas (
  plugin_id      text NOT NULL,
  entity_type    text NOT NULL,
  schema         text NOT NULL,   -- JSON object, as register_attribute_schema took it
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, entity_type)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_schemas TO nucleo_worker;
