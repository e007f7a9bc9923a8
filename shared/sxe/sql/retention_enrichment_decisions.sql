WITH doomed AS (
    SELECT id FROM ops.enrichment_decisions WHERE decided_at < %(cutoff)s ORDER BY id LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM ops.enrichment_decisions WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
