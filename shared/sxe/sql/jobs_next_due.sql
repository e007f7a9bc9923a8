-- Seconds until the earliest queued job of the queue is due (0 when one is due now); no row when none is queued.
SELECT greatest(extract(epoch FROM min(run_after) - clock_timestamp()), 0)::double precision AS wait_seconds
  FROM ops.jobs
 WHERE queue = %(queue)s AND state = 'queued'
HAVING count(*) > 0;
