-- Claim up to %(limit)s due jobs in one short transaction. SKIP LOCKED lets many
-- workers claim side by side; the lease token fences a worker that outlives its lease.
-- UPDATE ... RETURNING gives rows in no set order, so the claimed jobs are sorted
-- again: a worker runs them in queue order, and a budget that runs out within a
-- batch stops at the same job in every run.
WITH due AS (
    SELECT id
      FROM ops.jobs
     WHERE queue = %(queue)s AND state = 'queued' AND run_after <= clock_timestamp()
     ORDER BY priority DESC, run_after, id
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE ops.jobs AS job
       SET state = 'running',
           attempts = job.attempts + 1,
           lease_token = gen_random_uuid(),
           lease_expires_at = clock_timestamp() + make_interval(secs => %(lease_seconds)s),
           updated_at = clock_timestamp()
      FROM due
     WHERE job.id = due.id
    RETURNING job.id, job.queue, job.payload, job.attempts, job.max_attempts, job.lease_token,
              job.priority, job.run_after
)
SELECT id, queue, payload, attempts, max_attempts, lease_token
  FROM claimed
 ORDER BY priority DESC, run_after, id;
