-- The emails and phone numbers seen in the bios and display names of the profiles, and every
-- sighting, in any profile, of the given contact values or of a value those profiles showed.
-- `own` is true for the sightings of the given profiles.
WITH own_profiles AS (
    SELECT profile.platform, profile.identity_key
      FROM social.profiles AS profile
     WHERE profile.id = ANY(%(profile_ids)s)
),
own_values AS (
    SELECT DISTINCT sighting.kind, sighting.value_sha256
      FROM contact.bio_sightings AS sighting
      JOIN own_profiles USING (platform, identity_key)
)
SELECT sighting.id, sighting.platform, sighting.identity_key, sighting.kind, sighting.value, sighting.seen_at,
       EXISTS (
           SELECT 1 FROM own_profiles
            WHERE own_profiles.platform = sighting.platform AND own_profiles.identity_key = sighting.identity_key
       ) AS own
  FROM contact.bio_sightings AS sighting
 WHERE sighting.value_sha256 = ANY(%(value_hashes)s)
    OR (sighting.kind, sighting.value_sha256) IN (SELECT kind, value_sha256 FROM own_values)
 ORDER BY sighting.platform, sighting.identity_key, sighting.kind, sighting.value;
