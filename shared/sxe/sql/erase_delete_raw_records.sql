-- Raw records observed by no remaining profile.
WITH gone AS (
    DELETE FROM social.raw_records AS raw
     WHERE raw.id = ANY(%(raw_ids)s)
       AND NOT EXISTS (SELECT 1 FROM social.profile_observations AS seen WHERE seen.raw_record_id = raw.id)
    RETURNING 1
)
SELECT count(*) AS removed FROM gone;
