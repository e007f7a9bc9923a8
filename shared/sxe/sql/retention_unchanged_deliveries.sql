-- Tier 1: hashes of unchanged deliveries received before the cutoff.
WITH doomed AS (
    SELECT content_hash FROM social.unchanged_deliveries
     WHERE received_at < %(cutoff)s
     ORDER BY content_hash LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM social.unchanged_deliveries WHERE content_hash IN (SELECT content_hash FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
