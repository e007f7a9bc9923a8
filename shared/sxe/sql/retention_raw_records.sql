-- Tier 1: raw records received before the cutoff that no remaining profile observes.
WITH doomed AS (
    SELECT raw.id FROM social.raw_records AS raw
     WHERE raw.received_at < %(cutoff)s
       AND NOT EXISTS (SELECT 1 FROM social.profile_observations AS seen WHERE seen.raw_record_id = raw.id)
     ORDER BY raw.id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM social.raw_records WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
