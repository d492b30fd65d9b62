-- 0004 search: the accent- and case-insensitive fold used by `contains` searches,
-- and trigram indexes that keep it fast on the fields people search by name.
--
-- nucleo_fold() must equal fold_for_search() in kernel/domain/search_fold.cpp: the
-- service folds the search value in C++ and the database folds the column here
-- (a unit test compares the two tables). Only A–Z and the listed accented letters
-- change; every other character is kept as is.
CREATE FUNCTION nucleo_fold(t text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZÁÀÂÃÄÅáàâãäåÇçÉÈÊËéèêëÍÌÎÏíìîïÑñÓÒÔÕÖóòôõöÚÙÛÜúùûüÝýÿ', 'abcdefghijklmnopqrstuvwxyzaaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyy') $$;

-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_legal_name_search ON accounts USING gin (nucleo_fold(legal_name) gin_trgm_ops);
CREATE INDEX accounts_trade_name_search ON accounts USING gin (nucleo_fold(trade_name) gin_trgm_ops);
CREATE INDEX contacts_name_search ON contacts USING gin (nucleo_fold(name) gin_trgm_ops);
CREATE INDEX deals_name_search ON deals USING gin (nucleo_fold(name) gin_trgm_ops);
CREATE INDEX deals_tenant_status ON deals (tenant_id, status);
CREATE INDEX accounts_tenant_lifecycle ON accounts (tenant_id, lifecycle);
