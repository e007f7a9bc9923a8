-- Put a claimed job back without spending an attempt: it never reached the provider.
UPDATE ops.jobs
   SET state = 'queued',
       attempts = attempts - 1,
       run_after = clock_timestamp() + make_interval(secs => %(delay_seconds)s),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id, state;
