UPDATE ops.jobs
   SET state = 'succeeded', lease_token = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id;
