-- The live cards of a pool with their profiles, and every profile that has no card yet.
SELECT card.id AS card_id, card.person_id, card.readiness, card.created_at, link.profile_id
  FROM execution.lead_cards AS card
  JOIN execution.card_profiles AS link ON link.card_id = card.id
 WHERE card.pool = %(pool)s AND card.readiness NOT IN ('merged', 'suppressed')
UNION ALL
SELECT NULL, NULL, NULL, NULL, profile.id
  FROM social.profiles AS profile
 WHERE NOT EXISTS (SELECT 1 FROM execution.card_profiles AS link WHERE link.profile_id = profile.id);
