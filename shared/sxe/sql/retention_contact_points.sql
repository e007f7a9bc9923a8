-- Tier 2: contact points not seen since the cutoff.
WITH doomed AS (
    SELECT id FROM contact.contact_points WHERE last_seen_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM contact.contact_points WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
