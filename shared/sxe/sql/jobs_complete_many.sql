-- Complete a claimed batch in one statement. Each job is guarded by its own state and
-- lease token, as in jobs_complete; the ids of the jobs that matched come back.
UPDATE ops.jobs AS job
   SET state = 'succeeded', lease_token = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
  FROM unnest(%(ids)s::bigint[], %(lease_tokens)s::uuid[]) AS held (id, lease_token)
 WHERE job.id = held.id AND job.state = 'running' AND job.lease_token = held.lease_token
RETURNING job.id;
