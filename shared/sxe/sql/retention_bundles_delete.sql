-- The rows of expired bundles whose objects are gone, with their card index. The foreign
-- key from bundle_cards is checked at the end of the statement, after both deletes.
WITH cards AS (
    DELETE FROM ops.bundle_cards WHERE bundle_id = ANY(%(ids)s) RETURNING 1
), gone AS (
    DELETE FROM ops.bundles WHERE id = ANY(%(ids)s) AND expires_at < %(now)s RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS removed, (SELECT count(*) FROM cards) AS bundle_cards;
