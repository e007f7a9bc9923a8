-- Tier 2: contacts left without contact points, with the card links and cached results that name them.
WITH doomed AS (
    SELECT contact.id FROM contact.contacts AS contact
     WHERE contact.created_at < %(cutoff)s
       AND NOT EXISTS (SELECT 1 FROM contact.contact_points AS point WHERE point.contact_id = contact.id)
     ORDER BY contact.id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), detached AS (
    UPDATE execution.lead_cards SET contact_id = NULL, updated_at = clock_timestamp()
     WHERE contact_id IN (SELECT id FROM doomed) RETURNING 1
), forgotten AS (
    DELETE FROM ops.lookup_memory WHERE contact_id IN (SELECT id FROM doomed) RETURNING 1
), gone AS (
    DELETE FROM contact.contacts WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
