-- 0005 stored folds for name search.
--
-- As nucleo_app every query runs under row-level security, and PostgreSQL evaluates a
-- condition that is not LEAKPROOF (LIKE is not) only after the policy: 0004's trigram
-- indexes on nucleo_fold(...) were never used, and `contains` folded every row of the
-- tenant (about 15 µs a row). The fold is now stored once per write in a generated
-- column, so a search reads it instead of computing it. The unusable indexes go.
DROP INDEX accounts_legal_name_search;
DROP INDEX accounts_trade_name_search;
DROP INDEX contacts_name_search;
DROP INDEX deals_name_search;

ALTER TABLE accounts
  ADD COLUMN legal_name_folded text GENERATED ALWAYS AS (nucleo_fold(legal_name)) STORED,
  ADD COLUMN trade_name_folded text GENERATED ALWAYS AS (nucleo_fold(trade_name)) STORED;
ALTER TABLE contacts ADD COLUMN name_folded text GENERATED ALWAYS AS (nucleo_fold(name)) STORED;
ALTER TABLE deals ADD COLUMN name_folded text GENERATED ALWAYS AS (nucleo_fold(name)) STORED;
