-- 0018 the collections each plugin declared when it last loaded; see the PostgreSQL
-- migration.
CREATE TABLE plugin_collections (
  plugin_id      text NOT NULL,
  collection     text NOT NULL,
  indexes        text NOT NULL,
  personal       text,
  plugin_version text NOT NULL,
  recorded_at    bigint NOT NULL,
  PRIMARY KEY (plugin_id, collection)
);
