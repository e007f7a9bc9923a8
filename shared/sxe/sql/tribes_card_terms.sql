-- Per live card of the pool: its bios, its website domains and the ruleset terms its labels matched.
SELECT card.id AS card_id,
       array(SELECT profile.bio FROM execution.card_profiles AS link
               JOIN social.profiles AS profile ON profile.id = link.profile_id
              WHERE link.card_id = card.id AND profile.bio IS NOT NULL) AS bios,
       array(SELECT profile.website_domain FROM execution.card_profiles AS link
               JOIN social.profiles AS profile ON profile.id = link.profile_id
              WHERE link.card_id = card.id AND profile.website_domain IS NOT NULL) AS domains,
       array(SELECT match -> 'matched'
               FROM execution.card_labels AS label
               CROSS JOIN LATERAL jsonb_array_elements(label.evidence -> 'matches') AS match
              WHERE label.card_id = card.id AND label.kind IN ('persona', 'tribe') AND match ? 'matched') AS matched
  FROM execution.lead_cards AS card
 WHERE card.pool = %(pool)s AND card.readiness NOT IN ('merged', 'suppressed')
 ORDER BY card.id;
