-- Store a chunk's accepted raw records and append one observation per record, with
-- the chunk's source attribution. %(records)s is a JSON array with distinct content
-- hashes, and `position` orders the observations as the records came in. A raw
-- record stored meanwhile by a concurrent ingest is kept, and the no-op update
-- returns its id for the observation.
WITH incoming AS (
    SELECT *
    FROM jsonb_to_recordset(%(records)s::jsonb) AS record (
        position integer, content_hash text, format text, platform text, location text, payload jsonb,
        profile_id uuid, followers bigint, following bigint, posts bigint, likes bigint
    )
), raw AS (
    INSERT INTO social.raw_records (content_hash, batch_id, format, platform, location, payload)
    SELECT content_hash, %(batch_id)s, format, platform, location, payload
    FROM incoming
    ORDER BY content_hash
    ON CONFLICT (content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash
    RETURNING id, content_hash
)
INSERT INTO social.profile_observations (
    profile_id, raw_record_id, observed_at, followers, following, posts, likes,
    source_name, run_id, collected_at, source_url
)
SELECT
    incoming.profile_id, raw.id, %(collected_at)s, incoming.followers, incoming.following, incoming.posts,
    incoming.likes, %(source_name)s, %(run_id)s, %(collected_at)s, %(source_url)s
FROM incoming
JOIN raw USING (content_hash)
ORDER BY incoming.position;
