-- The content hashes among %(content_hashes)b already received: as a stored raw
-- record, or as a delivery whose profile was unchanged. The array goes in binary
-- format, which psycopg writes several times faster than an array literal.
-- `unrecorded_profile_id` is the received record's profile when pool %(pool)s may not have
-- ingested it yet, else NULL, and always NULL when %(pool)s is NULL. For a raw record, that
-- is when the record's batch had another pool and social.profile_pools does not list the
-- pair. An observation from another batch of %(pool)s is not checked, so such a profile
-- gets one needless social.profile_pools row. For an unchanged delivery, no observation of
-- the profile came from a batch of %(pool)s or of no pool and social.profile_pools does not
-- list the pair. A raw record of a batch of the same pool costs one batch lookup more than
-- the hash lookup alone.
WITH received AS (
    SELECT raw.content_hash,
           CASE WHEN batch.pool <> %(pool)s::text THEN (
               SELECT seen.profile_id
                 FROM social.profile_observations AS seen
                WHERE seen.raw_record_id = raw.id
                LIMIT 1
           ) END AS outside_profile_id
      FROM social.raw_records AS raw
      JOIN social.ingest_batches AS batch ON batch.id = raw.batch_id
     WHERE raw.content_hash = ANY(%(content_hashes)b::text[])
    UNION ALL
    SELECT delivery.content_hash,
           CASE WHEN %(pool)s::text IS NOT NULL AND NOT social.observed_for_pool(delivery.profile_id, %(pool)s::text)
           THEN delivery.profile_id END
      FROM social.unchanged_deliveries AS delivery
     WHERE delivery.content_hash = ANY(%(content_hashes)b::text[])
)
SELECT received.content_hash,
       CASE WHEN NOT EXISTS (
           SELECT 1
             FROM social.profile_pools AS member
            WHERE member.pool = %(pool)s::text AND member.profile_id = received.outside_profile_id
       ) THEN received.outside_profile_id END AS unrecorded_profile_id
  FROM received;
