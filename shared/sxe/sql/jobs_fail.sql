-- A permanent failure: no retry can help, so the job is dead at once.
UPDATE ops.jobs
   SET state = 'dead',
       last_error = %(error)s,
       errors = errors || jsonb_build_array(%(error)s::jsonb),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id, state;
