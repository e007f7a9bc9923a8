-- Store the accepted raw records staged in ingest_stage and append one observation per
-- record, with the chunk's source attribution. The staged content hashes are distinct,
-- and `position` orders the observations as the records came in. A raw record stored
-- meanwhile by a concurrent ingest is kept, and the no-op update returns its id for
-- the observation.
WITH raw AS (
    INSERT INTO social.raw_records (content_hash, batch_id, format, platform, location, payload)
    SELECT content_hash, %(batch_id)s, format, platform, location, payload
    FROM ingest_stage
    ORDER BY content_hash
    ON CONFLICT (content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash
    RETURNING id, content_hash
)
INSERT INTO social.profile_observations (
    profile_id, raw_record_id, observed_at, followers, following, posts, likes,
    source_name, run_id, collected_at, source_url
)
SELECT
    ingest_stage.profile_id, raw.id, %(collected_at)s, ingest_stage.followers, ingest_stage.following,
    ingest_stage.posts, ingest_stage.likes, %(source_name)s, %(run_id)s, %(collected_at)s, %(source_url)s
FROM ingest_stage
JOIN raw USING (content_hash)
ORDER BY ingest_stage.position;
