WITH doomed AS (
    SELECT key FROM ops.idempotency_keys WHERE created_at < %(cutoff)s ORDER BY key LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM ops.idempotency_keys WHERE key IN (SELECT key FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
