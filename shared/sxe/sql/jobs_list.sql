-- The most recently changed jobs, optionally of one queue and one state, without payloads.
SELECT id, queue, state, attempts, max_attempts, run_after, updated_at, last_error
  FROM ops.jobs
 WHERE (%(queue)s::text IS NULL OR queue = %(queue)s)
   AND (%(state)s::text IS NULL OR state = %(state)s)
 ORDER BY updated_at DESC, id DESC
 LIMIT %(limit)s;
