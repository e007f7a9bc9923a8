-- The sightings that erase_bio_sightings found for the person.
WITH gone AS (
    DELETE FROM contact.bio_sightings WHERE id = ANY(%(sighting_ids)s) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
