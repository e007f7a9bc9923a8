-- Cards of a pool in one readiness state, optionally only those with a persona or a
-- tribe label and a profile on a platform the lead-card contract lists, in id order. The same filters are in handoff_mark_cards.sql and
-- handoff_record_members.sql, so the cards written are the cards marked.
SELECT card.*
  FROM contact.handoff_cards AS card
 WHERE card.pool = %(pool)s
   AND card.readiness = %(state)s
   AND (%(persona)s::text IS NULL OR EXISTS (
            SELECT FROM execution.card_labels AS label
             WHERE label.card_id = card.card_id AND label.kind = 'persona' AND label.value = %(persona)s))
   AND (%(tribe)s::text IS NULL OR EXISTS (
            SELECT FROM execution.card_labels AS label
             WHERE label.card_id = card.card_id AND label.kind = 'tribe' AND label.value = %(tribe)s))
   AND EXISTS (SELECT FROM execution.card_profiles AS link
                 JOIN social.profiles AS profile ON profile.id = link.profile_id
                WHERE link.card_id = card.card_id AND profile.platform = ANY(%(platforms)s))
 ORDER BY card.card_id;
