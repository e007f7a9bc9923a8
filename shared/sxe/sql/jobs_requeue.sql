-- Put dead jobs back in their queue, due now, with their attempts reset; their error history
-- stays. %(ids)s or %(queue)s chooses them (null: any), less the ids in %(excluded)s. A job stays dead while a queued or
-- running job has its dedupe key, and of several dead jobs sharing a key only the newest moves,
-- because the key may be live only once.
WITH locked AS (
    SELECT job.id, job.queue, job.dedupe_key
      FROM ops.jobs AS job
     WHERE job.state = 'dead'
       AND (%(ids)s::bigint[] IS NULL OR job.id = ANY (%(ids)s::bigint[]))
       AND (%(queue)s::text IS NULL OR job.queue = %(queue)s)
       AND NOT job.id = ANY (%(excluded)s::bigint[])
       FOR UPDATE
), chosen AS (
    SELECT DISTINCT ON (coalesce(locked.dedupe_key, locked.id::text)) locked.id
      FROM locked
     WHERE locked.dedupe_key IS NULL
        OR NOT EXISTS (SELECT FROM ops.jobs AS live
                        WHERE live.dedupe_key = locked.dedupe_key AND live.state IN ('queued', 'running'))
     ORDER BY coalesce(locked.dedupe_key, locked.id::text), locked.id DESC
)
UPDATE ops.jobs AS job
   SET state = 'queued',
       attempts = 0,
       run_after = clock_timestamp(),
       lease_token = NULL,
       lease_expires_at = NULL,
       updated_at = clock_timestamp()
  FROM chosen
 WHERE job.id = chosen.id
RETURNING job.id, job.queue;
