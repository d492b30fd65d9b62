-- 0026 merging duplicates (docs/api.md, "Merging duplicates"): a contact or account
-- merged into another is archived and names the record that took its place.
ALTER TABLE contacts ADD COLUMN merged_into text;
ALTER TABLE accounts ADD COLUMN merged_into text;
-- A merge finds the tasks on the merged records (the other dependents have indexes).
CREATE INDEX tasks_contact ON tasks (contact_id);
CREATE INDEX tasks_account ON tasks (account_id);
