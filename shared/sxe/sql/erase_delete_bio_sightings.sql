-- Bio sightings are keyed by platform identity, so they are found through the profiles being erased.
WITH gone AS (
    DELETE FROM contact.bio_sightings AS sighting
     USING social.profiles AS profile
     WHERE profile.id = ANY(%(profile_ids)s)
       AND sighting.platform = profile.platform AND sighting.identity_key = profile.identity_key
    RETURNING 1
)
SELECT count(*) AS removed FROM gone;
