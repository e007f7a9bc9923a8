-- Claim up to %(limit)s due jobs in one short transaction. SKIP LOCKED lets many
-- workers claim side by side; the lease token fences a worker that outlives its lease.
-- One token serves the whole claim. It is new for every claim, so it still separates
-- this worker's hold on a job from any later claim of it, and one random UUID per batch
-- costs less than one per job. One statement time stamp serves every row for the same reason.
-- UPDATE ... RETURNING gives rows in no set order, so the claimed jobs are sorted
-- again: a worker runs them in queue order, and a budget that runs out within a
-- batch stops at the same job in every run.
WITH due AS (
    SELECT id
      FROM ops.jobs
     WHERE queue = %(queue)s AND state = 'queued' AND run_after <= statement_timestamp()
     ORDER BY priority DESC, run_after, id
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
),
lease AS (
    SELECT gen_random_uuid() AS token,
           statement_timestamp() + make_interval(secs => %(lease_seconds)s) AS expires_at
),
claimed AS (
    UPDATE ops.jobs AS job
       SET state = 'running',
           attempts = job.attempts + 1,
           lease_token = lease.token,
           lease_expires_at = lease.expires_at,
           updated_at = statement_timestamp()
      FROM due, lease
     WHERE job.id = due.id
    RETURNING job.id, job.queue, job.payload, job.attempts, job.max_attempts, job.lease_token,
              job.priority, job.run_after
)
SELECT id, queue, payload, attempts, max_attempts, lease_token
  FROM claimed
 ORDER BY priority DESC, run_after, id;
