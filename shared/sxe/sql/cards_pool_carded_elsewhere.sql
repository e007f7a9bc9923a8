-- Count the profiles ingested for pool %(pool)s that sit on a card of another pool. A
-- profile has one card (execution.card_profiles.profile_id is unique), so %(pool)s will
-- not card them. A profile counts as ingested for the pool through a social.profile_pools
-- row or an observation from a batch of the pool. Batches of no pool are left out, because
-- every pool may take their profiles, and counting them would name the same profiles in
-- every pool's summary.
SELECT count(*) AS carded_elsewhere
  FROM execution.card_profiles AS link
  JOIN execution.lead_cards AS card ON card.id = link.card_id
 WHERE card.pool <> %(pool)s
   AND (
       EXISTS (
           SELECT 1 FROM social.profile_pools AS member WHERE member.pool = %(pool)s AND member.profile_id = link.profile_id
       )
       OR EXISTS (
           SELECT 1
             FROM social.profile_observations AS seen
             JOIN social.raw_records AS raw ON raw.id = seen.raw_record_id
             JOIN social.ingest_batches AS batch ON batch.id = raw.batch_id
            WHERE seen.profile_id = link.profile_id AND batch.pool = %(pool)s
       )
   );
