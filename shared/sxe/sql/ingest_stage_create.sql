-- The session's staging table for a chunk's accepted raw records, filled by COPY and
-- emptied at every commit. Temporary tables live in the session's own schema, so
-- concurrent ingests never see each other's rows.
CREATE TEMPORARY TABLE IF NOT EXISTS ingest_stage (
    position integer NOT NULL,
    content_hash text NOT NULL,
    format text NOT NULL,
    platform text NOT NULL,
    location text NOT NULL,
    payload jsonb NOT NULL,
    profile_id uuid NOT NULL,
    followers bigint,
    following bigint,
    posts bigint,
    likes bigint
) ON COMMIT DELETE ROWS;
