-- Profiles whose bio or display name showed the email address or phone number.
SELECT profile.id
  FROM contact.bio_sightings AS sighting
  JOIN social.profiles AS profile
    ON profile.platform = sighting.platform AND profile.identity_key = sighting.identity_key
 WHERE sighting.kind = %(kind)s AND sighting.value_sha256 = %(value_sha256)s;
