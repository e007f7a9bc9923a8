-- Tier 2: emails and phones seen in public bios and not seen again since the cutoff.
WITH doomed AS (
    SELECT id FROM contact.bio_sightings WHERE seen_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM contact.bio_sightings WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
