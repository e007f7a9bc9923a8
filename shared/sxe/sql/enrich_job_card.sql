-- The readiness of a claimed lookup job's card and the facts the intent policy reads:
-- persona and tribe labels, the best persona score, and the followers and quality flags
-- of the profile that `enrich_candidates` picks for the lookup key. The worker gates the
-- job again on the card's current labels with this one read. A card without profiles
-- still returns its readiness, with null facts.
SELECT card.id AS card_id,
       card.readiness,
       array(SELECT label.value FROM execution.card_labels AS label
              WHERE label.card_id = card.id AND label.kind = 'persona' ORDER BY label.value) AS personas,
       array(SELECT label.value FROM execution.card_labels AS label
              WHERE label.card_id = card.id AND label.kind = 'tribe'
             UNION
             SELECT member.slug FROM execution.card_tribes AS member WHERE member.card_id = card.id
             ORDER BY 1) AS tribes,
       (SELECT coalesce(max(label.score), 0) FROM execution.card_labels AS label
         WHERE label.card_id = card.id AND label.kind = 'persona') AS quality,
       best.display_name, best.website_domain, best.followers, best.quality_flags
  FROM execution.lead_cards AS card
  LEFT JOIN LATERAL (
        SELECT profile.display_name, profile.website_domain, profile.followers, profile.quality_flags
          FROM execution.card_profiles AS link
          JOIN social.profiles AS profile ON profile.id = link.profile_id
         WHERE link.card_id = card.id
         ORDER BY (profile.website_domain IS NOT NULL) DESC, profile.followers DESC NULLS LAST,
                  profile.platform, profile.identity_key
         LIMIT 1
  ) AS best ON true
 WHERE card.id = %(card_id)s;
