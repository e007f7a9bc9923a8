INSERT INTO contact.bio_sightings (platform, identity_key, kind, value, value_sha256)
VALUES (%(platform)s, %(identity_key)s, %(kind)s, %(value)s, %(value_sha256)s)
ON CONFLICT (platform, identity_key, kind, value_sha256) DO UPDATE SET seen_at = clock_timestamp();
