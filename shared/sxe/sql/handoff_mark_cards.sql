-- Mark the ready cards a bundle holds as handed off, with one readiness event each,
-- record them as the bundle's members and enqueue one message per card for every
-- consumer subscribed to the pool. readiness_reason is kept: it says how the card
-- became ready, and the provenance of later renderings reads it.
WITH moved AS (
    UPDATE execution.lead_cards AS card
       SET readiness = 'handed_off', updated_at = clock_timestamp()
     WHERE card.pool = %(pool)s
       AND card.readiness = 'ready'
       AND (%(persona)s::text IS NULL OR EXISTS (
                SELECT FROM execution.card_labels AS label
                 WHERE label.card_id = card.id AND label.kind = 'persona' AND label.value = %(persona)s))
       AND (%(tribe)s::text IS NULL OR EXISTS (
                SELECT FROM execution.card_labels AS label
                 WHERE label.card_id = card.id AND label.kind = 'tribe' AND label.value = %(tribe)s))
       AND EXISTS (SELECT FROM execution.card_profiles AS link
                     JOIN social.profiles AS profile ON profile.id = link.profile_id
                    WHERE link.card_id = card.id AND profile.platform = ANY(%(platforms)s))
    RETURNING card.id, card.pool
), events AS (
    INSERT INTO ops.events (type, subject_id, data)
    SELECT 'card.readiness_changed', moved.id::text,
           jsonb_build_object('readiness', 'handed_off', 'previous', 'ready', 'bundle_id', %(bundle_id)s::text)
      FROM moved
), members AS (
    INSERT INTO ops.bundle_cards (bundle_id, card_id)
    SELECT %(bundle_id)s, moved.id FROM moved
), messages AS (
    INSERT INTO ops.handoff_messages (consumer_id, card_id, pool, bundle_id)
    SELECT consumer.id, moved.id, moved.pool, %(bundle_id)s
      FROM moved
      JOIN ops.api_consumers AS consumer ON moved.pool = ANY (consumer.pools) AND consumer.revoked_at IS NULL
    RETURNING id
)
SELECT (SELECT count(*) FROM moved) AS cards, (SELECT count(*) FROM messages) AS messages;
