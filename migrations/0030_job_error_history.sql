-- Every failure of a job stays on its row: `errors` is an append-only JSON array of
-- {attempt, at, class, message, status_code, retry_after_seconds, delay_seconds}, one
-- entry per failed attempt or expired lease. `last_error` keeps the newest entry.

ALTER TABLE ops.jobs
    ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(errors) = 'array');

-- Rescue scans running jobs by lease expiry; without this it reads the whole table.
CREATE INDEX jobs_running_lease ON ops.jobs (lease_expires_at) WHERE state = 'running';
