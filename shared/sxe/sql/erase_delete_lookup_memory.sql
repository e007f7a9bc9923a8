WITH gone AS (
    DELETE FROM ops.lookup_memory
     WHERE fingerprint = ANY(%(fingerprints)s) OR contact_id = ANY(%(contact_ids)s)
    RETURNING 1
)
SELECT count(*) AS removed FROM gone;
