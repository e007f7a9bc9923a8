-- Finished jobs only: a queued or running job is live work, however old.
WITH doomed AS (
    SELECT id FROM ops.jobs
     WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled') AND updated_at < %(cutoff)s
     ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM ops.jobs WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
