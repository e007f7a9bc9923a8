-- Close a claimed job that must not run, such as a lookup whose card the gate no longer
-- allows: it becomes cancelled without spending an attempt, and its reason joins the
-- error history so `sxe jobs list` shows why.
UPDATE ops.jobs
   SET state = 'cancelled',
       attempts = attempts - 1,
       last_error = %(reason)s,
       errors = errors || jsonb_build_array(%(reason)s::jsonb),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
 WHERE id = %(id)s AND state = 'running' AND lease_token = %(lease_token)s
RETURNING id, state;
