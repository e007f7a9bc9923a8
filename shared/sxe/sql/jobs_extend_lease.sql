-- Push a held lease's expiry forward; no row back means the lease was lost (rescued or finished).
UPDATE ops.jobs
   SET lease_expires_at = clock_timestamp() + make_interval(secs => %(lease_seconds)s),
       updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id;
