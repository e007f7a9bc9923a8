-- Store the accepted raw records staged in ingest_stage and append one observation per
-- record, with the chunk's source attribution. The staged rows are deleted as they are
-- read, so a chunk never reads an earlier chunk's rows, even inside an outer transaction
-- where ON COMMIT DELETE ROWS has not emptied the table yet. The staged content hashes
-- are distinct, and `position` orders the observations as the records came in. A raw
-- record stored meanwhile by a concurrent ingest is kept, and the no-op update returns
-- its id for the observation.
WITH staged AS (
    DELETE FROM ingest_stage
    RETURNING *
), raw AS (
    INSERT INTO social.raw_records (content_hash, batch_id, format, platform, location, payload)
    SELECT content_hash, %(batch_id)s, format, platform, location, payload
    FROM staged
    ORDER BY content_hash
    ON CONFLICT (content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash
    RETURNING id, content_hash
)
INSERT INTO social.profile_observations (
    profile_id, raw_record_id, observed_at, followers, following, posts, likes,
    source_name, run_id, collected_at, source_url
)
SELECT
    staged.profile_id, raw.id, %(collected_at)s, staged.followers, staged.following,
    staged.posts, staged.likes, %(source_name)s, %(run_id)s, %(collected_at)s, %(source_url)s
FROM staged
JOIN raw USING (content_hash)
ORDER BY staged.position;
