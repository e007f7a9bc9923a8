-- Contact points seen in the public bios of the given profiles ("platform:identity_key").
SELECT DISTINCT ON (kind, value_sha256) kind, value, value_sha256
  FROM contact.bio_sightings
 WHERE platform || ':' || identity_key = ANY(%(profiles)s)
 ORDER BY kind, value_sha256, seen_at DESC;
