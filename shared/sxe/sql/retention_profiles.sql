-- Tier 1: profiles unchanged since the cutoff, with their observations (cascade) and card links.
WITH doomed AS (
    SELECT id FROM social.profiles WHERE updated_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), links AS (
    DELETE FROM execution.card_profiles WHERE profile_id IN (SELECT id FROM doomed) RETURNING 1
), gone AS (
    DELETE FROM social.profiles WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
