-- Queue for one consumer every card of %(pools)s that is handed off now and that the
-- consumer never had a message for, each with the newest bundle that still contains it
-- (not revoked, not expired). A card with no such bundle is left out.
WITH latest AS (
    SELECT DISTINCT ON (member.card_id) member.card_id, member.bundle_id, card.pool
      FROM execution.lead_cards AS card
      JOIN ops.bundle_cards AS member ON member.card_id = card.id
      JOIN ops.bundles AS bundle ON bundle.id = member.bundle_id
     WHERE card.pool = ANY (%(pools)s::text[])
       AND card.readiness = 'handed_off'
       AND bundle.revoked_at IS NULL
       AND (bundle.expires_at IS NULL OR bundle.expires_at > now())
     ORDER BY member.card_id, bundle.created_at DESC
), queued AS (
    INSERT INTO ops.handoff_messages (consumer_id, card_id, pool, bundle_id)
    SELECT %(consumer_id)s, latest.card_id, latest.pool, latest.bundle_id
      FROM latest
     WHERE NOT EXISTS (
               SELECT FROM ops.handoff_messages AS had
                WHERE had.consumer_id = %(consumer_id)s AND had.card_id = latest.card_id)
    ON CONFLICT (consumer_id, bundle_id, card_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS queued FROM queued;
