WITH doomed AS (
    SELECT id FROM ops.events WHERE created_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM ops.events WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
