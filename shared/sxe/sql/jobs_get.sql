SELECT id, queue, state, attempts, max_attempts, run_after, lease_expires_at, last_error, errors, payload
  FROM ops.jobs
 WHERE id = %(id)s;
