-- A card whose every profile is private is held: its people chose not to be public.
UPDATE execution.lead_cards AS card
   SET readiness = 'held', readiness_reason = 'all_profiles_private', updated_at = clock_timestamp()
 WHERE card.pool = %(pool)s AND card.readiness IN ('tagged', 'ready')
   AND NOT EXISTS (
        SELECT 1
          FROM execution.card_profiles AS link
          JOIN social.profiles AS profile ON profile.id = link.profile_id
         WHERE link.card_id = card.id AND NOT ('private_account' = ANY(profile.quality_flags))
   )
RETURNING id;
