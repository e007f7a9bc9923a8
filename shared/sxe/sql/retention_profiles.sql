-- Tier 1: profiles unchanged since the cutoff, with their observations (cascade) and card links.
-- A surviving card that lost a profile this way has labels computed partly from it, so its
-- tagged_snapshot is cleared and the next tagging pass labels it again.
WITH doomed AS (
    SELECT id FROM social.profiles WHERE updated_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), links AS (
    DELETE FROM execution.card_profiles WHERE profile_id IN (SELECT id FROM doomed) RETURNING card_id
), untagged AS (
    UPDATE execution.lead_cards SET tagged_snapshot = NULL WHERE id IN (SELECT card_id FROM links)
), gone AS (
    DELETE FROM social.profiles WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
