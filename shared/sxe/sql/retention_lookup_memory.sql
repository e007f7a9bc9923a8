-- Cached lookup results past their cooldown are of no further use, whatever the tier periods.
WITH doomed AS (
    SELECT fingerprint FROM ops.lookup_memory WHERE remembered_until < %(now)s ORDER BY fingerprint
     LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM ops.lookup_memory WHERE fingerprint IN (SELECT fingerprint FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
