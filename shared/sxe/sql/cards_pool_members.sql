-- The live cards of a pool with their profiles, and the profiles on no card yet that were
-- ingested for the pool. Such a profile has an observation from a batch of the pool, or from
-- a batch with no pool, or a social.profile_pools row for the pool, which a duplicate record
-- of a batch of the pool wrote. Batches stored before batches recorded a pool have none, and
-- any pool may take their profiles.
-- A profile with no observation has no record of its pool, and any pool may take it too.
-- Ingest writes every profile with an observation, so only rows written outside ingest
-- have none.
-- NOTE: the cost still grows with Tier 1, not with the pool. With 6,000 profiles that a
-- second pool took through social.profile_pools, the planner scanned every profile and
-- hashed the pool's social.profile_pools rows (5 ms on a two-core machine). The
-- observation branch cannot start from the pool's batches, because social.raw_records has
-- no index on batch_id, and an index there would cost every first import a write per
-- record. The profiles with no observation need the scan too.
SELECT card.id AS card_id, card.person_id, card.readiness, card.created_at, link.profile_id
  FROM execution.lead_cards AS card
  JOIN execution.card_profiles AS link ON link.card_id = card.id
 WHERE card.pool = %(pool)s AND card.readiness NOT IN ('merged', 'suppressed')
UNION ALL
SELECT NULL, NULL, NULL, NULL, profile.id
  FROM social.profiles AS profile
 WHERE NOT EXISTS (SELECT 1 FROM execution.card_profiles AS link WHERE link.profile_id = profile.id)
   AND (
       EXISTS (
           SELECT 1 FROM social.profile_pools AS member WHERE member.pool = %(pool)s AND member.profile_id = profile.id
       )
       OR EXISTS (
           SELECT 1
             FROM social.profile_observations AS seen
             JOIN social.raw_records AS raw ON raw.id = seen.raw_record_id
             JOIN social.ingest_batches AS batch ON batch.id = raw.batch_id
            WHERE seen.profile_id = profile.id
              AND (batch.pool IS NULL OR batch.pool = %(pool)s)
       )
       OR NOT EXISTS (SELECT 1 FROM social.profile_observations AS seen WHERE seen.profile_id = profile.id)
   );
