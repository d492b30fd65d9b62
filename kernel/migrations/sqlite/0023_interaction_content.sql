-- 0023 a channel message's content; see the PostgreSQL migration.
ALTER TABLE interactions ADD COLUMN content text;
