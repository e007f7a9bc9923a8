-- Jobs whose lease expired (the worker crashed or ran out of time) go back to the
-- queue, or to dead when their attempts are used up. The expiry is recorded as a
-- failure of that attempt. SKIP LOCKED lets two rescuers run side by side.
WITH expired AS (
    SELECT id
      FROM ops.jobs
     WHERE state = 'running' AND lease_expires_at < clock_timestamp()
     ORDER BY id
       FOR UPDATE SKIP LOCKED
),
failure AS (
    SELECT job.id,
           jsonb_build_object(
               'attempt', job.attempts,
               'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'class', 'LeaseExpired',
               'message', 'the lease expired before the worker reported a result',
               'lease_expired_at', to_char(job.lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
           ) AS entry
      FROM ops.jobs AS job
      JOIN expired USING (id)
)
UPDATE ops.jobs AS job
   SET state = CASE WHEN job.attempts >= job.max_attempts THEN 'dead' ELSE 'queued' END,
       run_after = clock_timestamp(),
       last_error = failure.entry,
       errors = job.errors || jsonb_build_array(failure.entry),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
  FROM failure
 WHERE job.id = failure.id
RETURNING job.id, job.queue, job.state, job.attempts, job.payload;
