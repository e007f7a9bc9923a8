-- Back to the queue after the caller's backoff, or dead when the attempts are used up.
-- The failure is appended to the row's error history either way.
UPDATE ops.jobs
   SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
       run_after = clock_timestamp() + make_interval(secs => %(delay_seconds)s),
       last_error = %(error)s,
       errors = errors || jsonb_build_array(%(error)s::jsonb),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id, state;
