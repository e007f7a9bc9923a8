-- Record that pool %(pool)s ingested the profiles of a chunk's duplicates, and count the
-- chunk's records whose profile already sits on a card of another pool. Each element of
-- %(profile_ids)s is one record's profile, with its kind in %(kinds)s:
--   'duplicate': a stored raw content whose profile %(pool)s has not ingested
--                (ingest_raw_stored); recorded here;
--   'unchanged': a record whose profile was unchanged; recorded here unless an observation
--                from a batch of %(pool)s, or of no pool, records the pool already;
--   'changed':   a stored record of an existing profile, whose observation records the pool;
--                only counted.
-- A profile erased since it was read is skipped. `carded_elsewhere` counts the 'duplicate'
-- and 'changed' records, and the 'unchanged' ones recorded here, whose profile is on a card
-- of another pool: a profile has one card, so %(pool)s will not card them.
WITH record AS (
    SELECT profile_id, kind
      FROM unnest(%(profile_ids)s::uuid[], %(kinds)s::text[]) AS record (profile_id, kind)
), joined AS (
    INSERT INTO social.profile_pools (pool, profile_id)
    SELECT DISTINCT %(pool)s, profile.id
      FROM record
      JOIN social.profiles AS profile ON profile.id = record.profile_id
     WHERE record.kind = 'duplicate'
        OR (record.kind = 'unchanged' AND NOT social.observed_for_pool(profile.id, %(pool)s))
    ORDER BY profile.id
    ON CONFLICT (pool, profile_id) DO NOTHING
    RETURNING profile_id
)
SELECT (SELECT count(*) FROM joined) AS joined,
       (
           SELECT count(*)
             FROM record
             JOIN execution.card_profiles AS link ON link.profile_id = record.profile_id
             JOIN execution.lead_cards AS card ON card.id = link.card_id
            WHERE card.pool <> %(pool)s
              AND (record.kind <> 'unchanged' OR record.profile_id IN (SELECT profile_id FROM joined))
       ) AS carded_elsewhere;
