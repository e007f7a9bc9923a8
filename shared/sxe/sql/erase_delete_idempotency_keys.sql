WITH gone AS (DELETE FROM ops.idempotency_keys WHERE key = ANY(%(fingerprints)s) RETURNING 1)
SELECT count(*) AS removed FROM gone;
