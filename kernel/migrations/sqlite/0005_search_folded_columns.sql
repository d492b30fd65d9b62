-- 0005 stored folds for name search: PostgreSQL only (row-level security keeps it from
-- using an index on the fold). SQLite has no row-level security; its searches call the
-- registered nucleo_fold() function, as before. Kept so both dialects share numbers.
SELECT 1;
