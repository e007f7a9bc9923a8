-- Jobs whose lease expired (the worker crashed or timed out) go back to the queue,
-- or to dead when their attempts are used up.
UPDATE ops.jobs
   SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
       last_error = jsonb_build_object('class', 'lease_expired', 'message', 'the lease expired before the job finished'),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
 WHERE state = 'running' AND lease_expires_at < clock_timestamp()
RETURNING id, state;
