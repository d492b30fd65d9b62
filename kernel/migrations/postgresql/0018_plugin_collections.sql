-- 0018 the collections each plugin declared when it last loaded (docs/plugin-authoring.md,
-- "Personal data" and "Changing a collection's indexes"): the indexes its documents are
-- indexed by — a version that declares others has them re-indexed at load — and whose
-- personal data they hold, which erasure and the data-subject read follow even while
-- the plugin is not loaded. Deployment-wide, written by nucleo_worker.
CREATE TABLE plugin_collections (
  plugin_id      text NOT NULL,
  collection     text NOT NULL,
  indexes        text NOT NULL,   -- JSON object: field → integer | string
  personal       text,            -- JSON {subject_field, fields, on_erasure}; null: nobody's
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, collection)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_collections TO nucleo_worker;
GRANT SELECT ON plugin_collections TO nucleo_app;
