-- 0027 how many times an import was claimed (services/import_jobs.cpp): one that keeps
-- failing for a reason other than its file — or keeps killing its node — is given up
-- after a few runs instead of holding the runner, and every import queued after it, forever.
ALTER TABLE imports ADD COLUMN runs integer NOT NULL DEFAULT 0;
