-- Age of the oldest job that is due and still waiting; jobs scheduled for later are not late.
SELECT extract(epoch FROM now() - min(run_after))::double precision AS age_seconds
FROM ops.jobs
WHERE state = 'queued' AND run_after <= now();
