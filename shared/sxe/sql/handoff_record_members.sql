-- Record the cards of a re-exported bundle (cards already handed off) as its members.
INSERT INTO ops.bundle_cards (bundle_id, card_id)
SELECT %(bundle_id)s, card.id
  FROM execution.lead_cards AS card
 WHERE card.pool = %(pool)s
   AND card.readiness = %(state)s
   AND (%(persona)s::text IS NULL OR EXISTS (
            SELECT FROM execution.card_labels AS label
             WHERE label.card_id = card.id AND label.kind = 'persona' AND label.value = %(persona)s))
   AND (%(tribe)s::text IS NULL OR EXISTS (
            SELECT FROM execution.card_labels AS label
             WHERE label.card_id = card.id AND label.kind = 'tribe' AND label.value = %(tribe)s))
   AND EXISTS (SELECT FROM execution.card_profiles AS link
                 JOIN social.profiles AS profile ON profile.id = link.profile_id
                WHERE link.card_id = card.id AND profile.platform = ANY(%(platforms)s));
