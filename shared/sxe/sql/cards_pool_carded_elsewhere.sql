-- Count the profiles ingested for pool %(pool)s that sit on a card of another pool. A
-- profile has one card (execution.card_profiles.profile_id is unique), so %(pool)s will
-- not card them. A profile counts as ingested for the pool through a social.profile_pools
-- row or an observation from a batch of the pool. Batches of no pool are left out, because
-- every pool may take their profiles, and counting them would name the same profiles in
-- every pool's summary.
-- NOTE: social.raw_records has no index on batch_id, so the observation branch may scan
-- every stored record. It runs once per `sxe run`.
SELECT count(*) AS carded_elsewhere
  FROM execution.card_profiles AS link
  JOIN execution.lead_cards AS card ON card.id = link.card_id
 WHERE card.pool <> %(pool)s
   AND (
       link.profile_id IN (SELECT pool_member.profile_id FROM social.profile_pools AS pool_member WHERE pool_member.pool = %(pool)s)
       OR link.profile_id IN (
           SELECT observation.profile_id
             FROM social.ingest_batches AS pool_batch
             JOIN social.raw_records AS stored ON stored.batch_id = pool_batch.id
             JOIN social.profile_observations AS observation ON observation.raw_record_id = stored.id
            WHERE pool_batch.pool = %(pool)s
       )
   );
