-- The audience pools that ingested a stored profile through a duplicate record. A
-- duplicate stores no raw record and no observation, so its batch's pool would be lost:
-- importing the same file for a second pool would give that pool none of its profiles.
-- Ingest writes a row only when the batch's pool is not recorded for the profile already,
-- by an observation from a batch of the pool (or of no pool) or by an earlier row here.
-- Card building takes an unclaimed profile into each pool listed here, as it takes the
-- profiles observed in the pool's batches. Rows go with their profile on erasure and
-- retention.
CREATE TABLE social.profile_pools (
    pool         text NOT NULL CHECK (pool ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    profile_id   uuid NOT NULL REFERENCES social.profiles (id) ON DELETE CASCADE,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pool, profile_id)
);

-- Deleting a profile looks its rows up by profile.
CREATE INDEX profile_pools_profile ON social.profile_pools (profile_id);

GRANT SELECT, INSERT ON social.profile_pools TO sxe_api;
GRANT SELECT, INSERT, DELETE ON social.profile_pools TO sxe_worker;
GRANT SELECT ON social.profile_pools TO sxe_analyst;

-- Whether an observation of the profile came from a batch of the pool, or from a batch of
-- no pool, which any pool may take. Ingest asks it before it writes a social.profile_pools row.
CREATE FUNCTION social.observed_for_pool(target_profile uuid, target_pool text) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN EXISTS (
        SELECT 1
          FROM social.profile_observations AS seen
          JOIN social.raw_records AS raw ON raw.id = seen.raw_record_id
          JOIN social.ingest_batches AS batch ON batch.id = raw.batch_id
         WHERE seen.profile_id = target_profile
           AND (batch.pool IS NULL OR batch.pool = target_pool)
    );

REVOKE ALL ON FUNCTION social.observed_for_pool(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION social.observed_for_pool(uuid, text) TO sxe_api, sxe_worker;
