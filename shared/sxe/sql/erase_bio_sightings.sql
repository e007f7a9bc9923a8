-- The emails and phone numbers seen in the bios and display names of the profiles, and every
-- sighting of the given contact values, whichever profile showed them.
SELECT sighting.id, sighting.platform, sighting.identity_key, sighting.kind, sighting.value, sighting.seen_at
  FROM contact.bio_sightings AS sighting
 WHERE sighting.value_sha256 = ANY(%(value_hashes)s)
    OR EXISTS (
        SELECT 1
          FROM social.profiles AS profile
         WHERE profile.id = ANY(%(profile_ids)s)
           AND profile.platform = sighting.platform AND profile.identity_key = sighting.identity_key
    )
 ORDER BY sighting.platform, sighting.identity_key, sighting.kind, sighting.value;
