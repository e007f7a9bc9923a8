-- Record a chunk's bio sightings. %(sightings)s is a JSON array of objects with platform,
-- identity_key, kind, value and value_sha256, in the order they were found. A repeat
-- sighting only moves seen_at, and of two rows for the same contact point in one chunk
-- the first one is inserted, because ON CONFLICT DO UPDATE cannot touch a row twice.
INSERT INTO contact.bio_sightings (platform, identity_key, kind, value, value_sha256)
SELECT DISTINCT ON (platform, identity_key, kind, value_sha256) platform, identity_key, kind, value, value_sha256
FROM (
    SELECT
        item ->> 'platform' AS platform, item ->> 'identity_key' AS identity_key, item ->> 'kind' AS kind,
        item ->> 'value' AS value, item ->> 'value_sha256' AS value_sha256, position
    FROM jsonb_array_elements(%(sightings)s::jsonb) WITH ORDINALITY AS sighting (item, position)
) AS sightings
ORDER BY platform, identity_key, kind, value_sha256, position
ON CONFLICT (platform, identity_key, kind, value_sha256) DO UPDATE SET seen_at = clock_timestamp();
