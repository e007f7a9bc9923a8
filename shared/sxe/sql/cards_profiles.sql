-- The profiles of each card, with the snapshot this statement reads them under. Under
-- READ COMMITTED each statement takes its own snapshot, and the tags computed from these
-- rows must record this one.
SELECT link.card_id, pg_current_snapshot()::text AS snapshot, profile.*
  FROM execution.card_profiles AS link
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE link.card_id = ANY(%(card_ids)b::uuid[])
 ORDER BY link.card_id, profile.platform, profile.identity_key;
