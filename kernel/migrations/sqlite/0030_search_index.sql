-- 0030 index-backed search (docs/adr/0036-search-index-under-rls.md): an FTS5 `trigram`
-- table per searched table holds the folded text of its searched fields, kept by
-- triggers in the same transaction as the row. A search asks it for candidates and then
-- checks each candidate with the same LIKE as before, so results are unchanged.
--
-- FTS5 rows are numbered by integers; a `*_search_keys` table gives each record one
-- (an INTEGER PRIMARY KEY, which VACUUM keeps — a plain table's rowid it may renumber).
-- The FTS tables are contentless: they keep trigrams and positions, never the text, and
-- a row leaves them by FTS5's 'delete' command with the text it was indexed with.
-- A list of phones or e-mails is searched as its values, one per line.
-- nucleo_fold() is registered on every connection (kernel/store/connection_pool.cpp).

CREATE TABLE account_search_keys (rowid INTEGER PRIMARY KEY, id text NOT NULL UNIQUE);
CREATE VIRTUAL TABLE accounts_text USING fts5(legal_name, trade_name, tax_id, phones, emails,
                                              tokenize = 'trigram', content = '');
CREATE TABLE contact_search_keys (rowid INTEGER PRIMARY KEY, id text NOT NULL UNIQUE);
CREATE VIRTUAL TABLE contacts_text USING fts5(name, email, phone, tokenize = 'trigram', content = '');
CREATE TABLE deal_search_keys (rowid INTEGER PRIMARY KEY, id text NOT NULL UNIQUE);
CREATE VIRTUAL TABLE deals_text USING fts5(name, tokenize = 'trigram', content = '');

CREATE TRIGGER accounts_text_insert AFTER INSERT ON accounts BEGIN
  INSERT INTO account_search_keys (id) VALUES (new.id);
  INSERT INTO accounts_text (rowid, legal_name, trade_name, tax_id, phones, emails)
    VALUES ((SELECT rowid FROM account_search_keys WHERE id = new.id), nucleo_fold(new.legal_name),
            nucleo_fold(new.trade_name), nucleo_fold(new.tax_id),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(new.phones))),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(new.emails))));
END;
CREATE TRIGGER accounts_text_update AFTER UPDATE OF legal_name, trade_name, tax_id, phones, emails ON accounts BEGIN
  INSERT INTO accounts_text (accounts_text, rowid, legal_name, trade_name, tax_id, phones, emails)
    VALUES ('delete', (SELECT rowid FROM account_search_keys WHERE id = old.id), nucleo_fold(old.legal_name),
            nucleo_fold(old.trade_name), nucleo_fold(old.tax_id),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(old.phones))),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(old.emails))));
  INSERT INTO accounts_text (rowid, legal_name, trade_name, tax_id, phones, emails)
    VALUES ((SELECT rowid FROM account_search_keys WHERE id = new.id), nucleo_fold(new.legal_name),
            nucleo_fold(new.trade_name), nucleo_fold(new.tax_id),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(new.phones))),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(new.emails))));
END;
CREATE TRIGGER accounts_text_delete AFTER DELETE ON accounts BEGIN
  INSERT INTO accounts_text (accounts_text, rowid, legal_name, trade_name, tax_id, phones, emails)
    VALUES ('delete', (SELECT rowid FROM account_search_keys WHERE id = old.id), nucleo_fold(old.legal_name),
            nucleo_fold(old.trade_name), nucleo_fold(old.tax_id),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(old.phones))),
            nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(old.emails))));
  DELETE FROM account_search_keys WHERE id = old.id;
END;

CREATE TRIGGER contacts_text_insert AFTER INSERT ON contacts BEGIN
  INSERT INTO contact_search_keys (id) VALUES (new.id);
  INSERT INTO contacts_text (rowid, name, email, phone)
    VALUES ((SELECT rowid FROM contact_search_keys WHERE id = new.id), nucleo_fold(new.name),
            nucleo_fold(new.email), nucleo_fold(new.phone));
END;
CREATE TRIGGER contacts_text_update AFTER UPDATE OF name, email, phone ON contacts BEGIN
  INSERT INTO contacts_text (contacts_text, rowid, name, email, phone)
    VALUES ('delete', (SELECT rowid FROM contact_search_keys WHERE id = old.id), nucleo_fold(old.name),
            nucleo_fold(old.email), nucleo_fold(old.phone));
  INSERT INTO contacts_text (rowid, name, email, phone)
    VALUES ((SELECT rowid FROM contact_search_keys WHERE id = new.id), nucleo_fold(new.name),
            nucleo_fold(new.email), nucleo_fold(new.phone));
END;
CREATE TRIGGER contacts_text_delete AFTER DELETE ON contacts BEGIN
  INSERT INTO contacts_text (contacts_text, rowid, name, email, phone)
    VALUES ('delete', (SELECT rowid FROM contact_search_keys WHERE id = old.id), nucleo_fold(old.name),
            nucleo_fold(old.email), nucleo_fold(old.phone));
  DELETE FROM contact_search_keys WHERE id = old.id;
END;

CREATE TRIGGER deals_text_insert AFTER INSERT ON deals BEGIN
  INSERT INTO deal_search_keys (id) VALUES (new.id);
  INSERT INTO deals_text (rowid, name)
    VALUES ((SELECT rowid FROM deal_search_keys WHERE id = new.id), nucleo_fold(new.name));
END;
CREATE TRIGGER deals_text_update AFTER UPDATE OF name ON deals BEGIN
  INSERT INTO deals_text (deals_text, rowid, name)
    VALUES ('delete', (SELECT rowid FROM deal_search_keys WHERE id = old.id), nucleo_fold(old.name));
  INSERT INTO deals_text (rowid, name)
    VALUES ((SELECT rowid FROM deal_search_keys WHERE id = new.id), nucleo_fold(new.name));
END;
CREATE TRIGGER deals_text_delete AFTER DELETE ON deals BEGIN
  INSERT INTO deals_text (deals_text, rowid, name)
    VALUES ('delete', (SELECT rowid FROM deal_search_keys WHERE id = old.id), nucleo_fold(old.name));
  DELETE FROM deal_search_keys WHERE id = old.id;
END;

-- The records written before this migration.
INSERT INTO account_search_keys (id) SELECT id FROM accounts ORDER BY id;
INSERT INTO accounts_text (rowid, legal_name, trade_name, tax_id, phones, emails)
  SELECT k.rowid, nucleo_fold(a.legal_name), nucleo_fold(a.trade_name), nucleo_fold(a.tax_id),
         nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(a.phones))),
         nucleo_fold((SELECT group_concat(value, char(10)) FROM json_each(a.emails)))
    FROM accounts a JOIN account_search_keys k ON k.id = a.id;
INSERT INTO contact_search_keys (id) SELECT id FROM contacts ORDER BY id;
INSERT INTO contacts_text (rowid, name, email, phone)
  SELECT k.rowid, nucleo_fold(c.name), nucleo_fold(c.email), nucleo_fold(c.phone)
    FROM contacts c JOIN contact_search_keys k ON k.id = c.id;
INSERT INTO deal_search_keys (id) SELECT id FROM deals ORDER BY id;
INSERT INTO deals_text (rowid, name)
  SELECT k.rowid, nucleo_fold(d.name) FROM deals d JOIN deal_search_keys k ON k.id = d.id;
