COPY ingest_stage (
    position, content_hash, format, platform, location, payload, profile_id, followers, following, posts, likes
) FROM STDIN;
