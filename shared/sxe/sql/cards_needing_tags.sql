-- Cards never tagged, tagged by another ruleset version, or whose profiles changed since.
SELECT card.id, card.readiness
  FROM execution.lead_cards AS card
 WHERE card.pool = %(pool)s
   AND card.readiness NOT IN ('suppressed', 'merged')
   AND (
        card.ruleset_version IS DISTINCT FROM %(ruleset_version)s
        OR EXISTS (
            SELECT 1
              FROM execution.card_profiles AS link
              JOIN social.profiles AS profile ON profile.id = link.profile_id
             WHERE link.card_id = card.id AND profile.updated_at > card.updated_at
        )
   )
 ORDER BY card.id;
