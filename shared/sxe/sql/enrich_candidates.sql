-- Tagged cards of the pool (or the one card %(card_id)s in any state) with the facts
-- the gate needs: labels, the profile that carries the best lookup key (a display
-- name plus a website domain), every URL in the card's bios and latest raw records
-- other than image URLs (the identity bridge reads LinkedIn URLs and own domains
-- from them), and the platform identities of the card's profiles. The best cards
-- come first (persona score, then followers), so a budget that runs out mid-sweep
-- buys them. The profile keys make the order the same in every run, because card
-- and profile ids are random.
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
                     SELECT raw.payload
                       FROM social.profile_observations AS seen
                       JOIN social.raw_records AS raw ON raw.id = seen.raw_record_id
                      WHERE seen.profile_id = profile.id
                      ORDER BY seen.observed_at DESC, seen.raw_record_id DESC
                      LIMIT 1
               ) AS newest ON true
               -- The record's string values, except those under an image or media key (avatar_url,
               -- profile_image_url, profile_pic_url_hd, covers, ...) at any depth, because a
               -- picture's CDN host is never the person's own website.
               LEFT JOIN LATERAL (
                     WITH RECURSIVE node (value, under_image) AS (
                          SELECT newest.payload, false
                          UNION ALL
                          SELECT child.value,
                                 node.under_image
                                 OR coalesce(child.key ~* '(avatar|image|picture|photo|thumb|banner|cover|icon|logo|media|video)'
                                             OR child.key ~ '(^|_)(pic|img)|Pic|Img', false)
                            FROM node
                           CROSS JOIN LATERAL (
                                 SELECT entry.key, entry.value
                                   FROM jsonb_each(CASE WHEN jsonb_typeof(node.value) = 'object' THEN node.value END) AS entry
                                 UNION ALL
                                 SELECT NULL, element.value
                                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(node.value) = 'array' THEN node.value END) AS element
                           ) AS child
                     )
                     SELECT string_agg(node.value #>> '{}', ' ') AS text
                       FROM node
                      WHERE jsonb_typeof(node.value) = 'string' AND NOT node.under_image
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
         ORDER BY (profile.website_domain IS NOT NULL) DESC, profile.followers DESC NULLS LAST,
                  profile.platform, profile.identity_key
         LIMIT 1
  ) AS best
 WHERE card.pool = %(pool)s
   AND CASE WHEN %(card_id)s::uuid IS NULL THEN card.readiness IN ('tagged', 'qualified')
            ELSE card.id = %(card_id)s::uuid END
 ORDER BY quality DESC, followers DESC NULLS LAST, profile_keys, card_id;
