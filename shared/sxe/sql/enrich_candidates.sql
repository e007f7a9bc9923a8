-- Tagged cards of the pool (or the one card %(card_id)s in any state) with the facts
-- the gate needs: labels, the profile that carries the best lookup key (a display
-- name plus a website domain), every URL in the card's bios and latest raw records
-- (the identity bridge reads LinkedIn URLs and own domains from them), and the
-- platform identities of the card's profiles.
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
       best.display_name, best.website_domain, best.followers, best.quality_flags,
       array(SELECT DISTINCT found[1]
               FROM execution.card_profiles AS link
               JOIN social.profiles AS profile ON profile.id = link.profile_id
               LEFT JOIN LATERAL (
                     SELECT raw.payload::text AS text
                       FROM social.profile_observations AS seen
                       JOIN social.raw_records AS raw ON raw.id = seen.raw_record_id
                      WHERE seen.profile_id = profile.id
                      ORDER BY seen.observed_at DESC, seen.raw_record_id DESC
                      LIMIT 1
               ) AS latest ON true
              CROSS JOIN LATERAL regexp_matches(
                     coalesce(profile.bio, '') || ' ' || coalesce(latest.text, ''),
                     '(https?://[^\s"''<>\\]+|(?:www\.)?linkedin\.com/in/[A-Za-z0-9_%%-]+)', 'gi') AS found
              WHERE link.card_id = card.id
              ORDER BY 1) AS links,
       array(SELECT profile.platform || ':' || profile.identity_key
               FROM execution.card_profiles AS link
               JOIN social.profiles AS profile ON profile.id = link.profile_id
              WHERE link.card_id = card.id
              ORDER BY 1) AS profile_keys
  FROM execution.lead_cards AS card
  CROSS JOIN LATERAL (
        SELECT profile.display_name, profile.website_domain, profile.followers, profile.quality_flags
          FROM execution.card_profiles AS link
          JOIN social.profiles AS profile ON profile.id = link.profile_id
         WHERE link.card_id = card.id
         ORDER BY (profile.website_domain IS NOT NULL) DESC, profile.followers DESC NULLS LAST, profile.id
         LIMIT 1
  ) AS best
 WHERE card.pool = %(pool)s
   AND CASE WHEN %(card_id)s::uuid IS NULL THEN card.readiness IN ('tagged', 'qualified')
            ELSE card.id = %(card_id)s::uuid END
 ORDER BY card.id;
