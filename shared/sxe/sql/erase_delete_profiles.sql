-- Observations go with their profile (ON DELETE CASCADE); the cards keep no link to a deleted profile.
WITH links AS (DELETE FROM execution.card_profiles WHERE profile_id = ANY(%(profile_ids)s) RETURNING 1),
     gone AS (DELETE FROM social.profiles WHERE id = ANY(%(profile_ids)s) RETURNING 1)
SELECT (SELECT count(*) FROM gone) AS removed;
