-- 0031 when the leases of running jobs end (docs/adr/0037-background-loops-wake-on-work.md).
--
-- An idle job worker asks when the next job can be claimed: the earliest due run_at
-- among rows nobody holds (jobs_due), and the earliest end of a lease a node holds — a
-- node that died leaves one, and the job runs again when it ends. This index answers
-- the second without reading the table.
CREATE INDEX jobs_lease_ends ON jobs (leased_until) WHERE dead_at IS NULL;
